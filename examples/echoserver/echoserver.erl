%% A TCP echo server: every byte a client sends comes back unchanged.
%% Port 8080, one process per client, any number of clients at once.
-module(echoserver).
-export([start/0, start/1]).

-define(PORT, 8080).

start() ->
    start([integer_to_list(?PORT)]).

%% start/0 runs in a process that ends when it returns, so the listen
%% socket belongs to the long-lived acceptor, not to the caller.
start([Port]) ->
    Self = self(),
    Pid = spawn(fun() -> listen(list_to_integer(Port), Self) end),
    receive
        {Pid, listening} -> io:format("Echo server started~n");
        {Pid, {error, Why}} -> erlang:halt(io_lib:format("echoserver: ~p", [Why]))
    end.

listen(Port, Parent) ->
    case gen_tcp:listen(Port, [binary, {packet, 0}, {active, false},
                               {reuseaddr, true}, {backlog, 1024}]) of
        {ok, L} ->
            Parent ! {self(), listening},
            accept(L);
        {error, _} = E ->
            Parent ! {self(), E}
    end.

accept(L) ->
    {ok, S} = gen_tcp:accept(L),
    Pid = spawn(fun() -> receive go -> echo(S) end end),
    ok = gen_tcp:controlling_process(S, Pid),
    Pid ! go,
    accept(L).

echo(S) ->
    case gen_tcp:recv(S, 0) of
        {ok, Data} ->
            ok = gen_tcp:send(S, Data),
            echo(S);
        {error, closed} ->
            ok
    end.
