%% Test app for tests/boot/net.sh: each argument is one step, run in
%% order, each printing "netcheck WHAT ..." lines on the console:
%%   ifs              every interface's addresses (inet:getifaddrs/0)
%%   wait6:IF         wait (30 s at most) for a global IPv6 address on IF
%%   byname:NAME      inet:gethostbyname/1 (IPv4 addresses)
%%   res:NAME         inet_res:lookup(NAME, in, a)
%%   nx:NAME          inet:gethostbyname/1 and its time in milliseconds
%%   rc               the resolver's lookup order and nameservers
%%   rng              crypto:strong_rand_bytes/1 and the kernel's hw RNG
%%   time             erlang:system_time(second), and in milliseconds
%%   node             node()
%%   echo:PORT        an echo server on PORT (runs until the VM stops)
%%   serve:PORT       accept one connection on PORT, answer one line
%%   connect:ADDR:PORT  send a line to ADDR:PORT (retrying for 60 s)
%%   ping:NODE        net_adm:ping/1, retrying for 60 s until pong
%%   sleep:MS         wait
%% then the VM stops (init:stop/0), after "netcheck done".
-module(netcheck).
-export([start/0, start/1]).

start() -> start(["ifs"]).

start(Steps) ->
    [step(string:split(S, ":", all)) || S <- Steps],
    out("done", []),
    init:stop().

out(Fmt, Args) -> io:format("netcheck " ++ Fmt ++ "~n", Args).

step(["ifs"]) ->
    {ok, Ifs} = inet:getifaddrs(),
    [out("if ~s ~s", [If, inet:ntoa(A)])
     || {If, Opts} <- Ifs, {addr, A} <- Opts];
step(["wait6", If]) ->
    wait6(If, 300);
step(["byname", Name]) ->
    case inet:gethostbyname(Name) of
        {ok, {hostent, _, _, inet, 4, As}} ->
            out("byname ~s ~s", [Name, addrs(As)]);
        Other ->
            out("byname ~s ~0p", [Name, Other])
    end;
step(["res", Name]) ->
    out("res ~s ~s", [Name, addrs(inet_res:lookup(Name, in, a))]);
step(["nx", Name]) ->
    {Us, R} = timer:tc(fun() -> inet:gethostbyname(Name) end),
    out("nx ~s ~0p ~b", [Name, R, Us div 1000]);
step(["rc"]) ->
    out("lookup ~0p", [inet_db:res_option(lookup)]),
    out("nameservers ~0p", [inet_db:res_option(nameservers)]);
step(["rng"]) ->
    {Us, B} = timer:tc(fun() -> crypto:strong_rand_bytes(32) end),
    out("rng ~b bytes ~b ms", [byte_size(B), Us div 1000]),
    out("hwrng ~s", [hwrng()]);
step(["node"]) ->
    out("node ~s", [node()]);
step(["time"]) ->
    out("time ~b ~b", [erlang:system_time(second),
                       erlang:system_time(millisecond)]);
step(["echo", Port]) ->
    {ok, L} = gen_tcp:listen(list_to_integer(Port),
                             [binary, {packet, line}, {active, false},
                              {reuseaddr, true}]),
    Pid = spawn(fun() -> echo_loop(L) end),
    ok = gen_tcp:controlling_process(L, Pid),
    out("echo listening on ~s", [Port]);
step(["serve", Port]) ->
    {ok, L} = gen_tcp:listen(list_to_integer(Port),
                             [binary, {packet, line}, {active, false},
                              {reuseaddr, true}]),
    out("serve listening on ~s", [Port]),
    {ok, S} = gen_tcp:accept(L, 120000),
    {ok, {Peer, _}} = inet:peername(S),
    {ok, Line} = gen_tcp:recv(S, 0, 30000),
    ok = gen_tcp:send(S, <<"served ", Line/binary>>),
    out("serve got ~s from ~s", [string:trim(Line), inet:ntoa(Peer)]),
    gen_tcp:close(S),
    gen_tcp:close(L);
step(["connect", Addr, Port]) ->
    {ok, Ip} = inet:parse_address(Addr),
    connect(Ip, list_to_integer(Port), 60);
step(["ping", Node]) ->
    ping(list_to_atom(Node), 60);
step(["sleep", Ms]) ->
    timer:sleep(list_to_integer(Ms)).

addrs({ok, {hostent, _, _, _, _, As}}) -> addrs(As);
addrs([]) -> "none";
addrs(As) when is_list(As) ->
    string:join([inet:ntoa(A) || A <- lists:sort(As)], ",").

wait6(If, 0) ->
    out("wait6 ~s none", [If]);
wait6(If, N) ->
    {ok, Ifs} = inet:getifaddrs(),
    G = [A || {I, Opts} <- Ifs, I =:= If, {addr, A} <- Opts,
              tuple_size(A) =:= 8, element(1, A) band 16#ffc0 =/= 16#fe80],
    case G of
        [_ | _] -> out("wait6 ~s ~s", [If, inet:ntoa(hd(G))]);
        [] -> timer:sleep(100), wait6(If, N - 1)
    end.

hwrng() ->
    case file:read_file("/sys/class/misc/hw_random/rng_current") of
        {ok, B} -> string:trim(B);
        {error, E} -> atom_to_list(E)
    end.

echo_loop(L) ->
    {ok, S} = gen_tcp:accept(L),
    spawn(fun() -> echo(S) end),
    echo_loop(L).

echo(S) ->
    case gen_tcp:recv(S, 0) of
        {ok, Line} -> gen_tcp:send(S, Line), echo(S);
        _ -> gen_tcp:close(S)
    end.

connect(Ip, Port, 0) ->
    out("connect ~s:~b failed", [inet:ntoa(Ip), Port]);
connect(Ip, Port, N) ->
    case gen_tcp:connect(Ip, Port, [binary, {packet, line},
                                    {active, false}], 2000) of
        {ok, S} ->
            {ok, {Me, _}} = inet:sockname(S),
            ok = gen_tcp:send(S, <<"hello\n">>),
            {ok, Reply} = gen_tcp:recv(S, 0, 30000),
            out("connect ~s:~b from ~s got ~s",
                [inet:ntoa(Ip), Port, inet:ntoa(Me), string:trim(Reply)]),
            gen_tcp:close(S);
        {error, _} ->
            timer:sleep(1000),
            connect(Ip, Port, N - 1)
    end.

ping(Node, 0) ->
    out("ping ~s pang", [Node]);
ping(Node, N) ->
    case net_adm:ping(Node) of
        pong -> out("ping ~s pong", [Node]);
        pang -> timer:sleep(1000), ping(Node, N - 1)
    end.
