%% A TLS echo server: every byte a client sends over TLS comes back.
%% The certificate and key are read from a volume, not baked into the
%% image: DIR/cert.pem and DIR/key.pem, DIR being /srv unless given.
%%
%%   beamrun volume iso certs/ certs.iso
%%   beamrun run -p 8443 -b certs.iso,/srv tls_echo.img [PORT [DIR]]
-module(tls_echo).
-export([start/0, start/1]).

start() ->
    start(["8443"]).

start([Port]) ->
    start([Port, "/srv"]);
start([Port, Dir]) ->
    Cert = filename:join(Dir, "cert.pem"),
    Key = filename:join(Dir, "key.pem"),
    [fail("~s: ~s", [F, file:format_error(enoent)])
     || F <- [Cert, Key], not filelib:is_regular(F)],
    case application:ensure_all_started(ssl) of
        {ok, _} -> ok;
        {error, Why} -> fail("cannot start ssl: ~p", [Why])
    end,
    Self = self(),
    Pid = spawn(fun() -> listen(list_to_integer(Port), Cert, Key, Self) end),
    receive
        {Pid, listening} ->
            io:format("TLS echo server started on port ~s~n", [Port]);
        {Pid, {error, Why2}} ->
            fail("listen: ~p", [Why2])
    end.

listen(Port, Cert, Key, Parent) ->
    Opts = [binary, {active, false}, {reuseaddr, true},
            {certfile, Cert}, {keyfile, Key},
            {versions, ['tlsv1.3', 'tlsv1.2']}],
    case ssl:listen(Port, Opts) of
        {ok, L} ->
            Parent ! {self(), listening},
            accept(L);
        {error, _} = E ->
            Parent ! {self(), E}
    end.

%% The handshake runs in the connection's own process, so a client that
%% never finishes it does not hold up the others.
accept(L) ->
    {ok, T} = ssl:transport_accept(L),
    Pid = spawn(fun() -> receive go -> handshake(T) end end),
    ok = ssl:controlling_process(T, Pid),
    Pid ! go,
    accept(L).

handshake(T) ->
    case ssl:handshake(T, 30000) of
        {ok, S} ->
            {ok, [{protocol, V}]} = ssl:connection_information(S, [protocol]),
            io:format("tls_echo: client connected (~s)~n", [V]),
            echo(S);
        {error, Why} ->
            io:format("tls_echo: handshake failed: ~p~n", [Why])
    end.

echo(S) ->
    case ssl:recv(S, 0) of
        {ok, Data} ->
            ok = ssl:send(S, Data),
            echo(S);
        {error, _} ->
            ssl:close(S)
    end.

fail(Fmt, Args) ->
    erlang:halt(lists:flatten(io_lib:format("tls_echo: " ++ Fmt, Args))).
