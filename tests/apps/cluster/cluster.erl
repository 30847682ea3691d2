%% A node of a test cluster. It connects to every node named in
%% BEAMRUN_NODES, the lowest one registers a global name, and each
%% reports on its console what it sees, so the boot test can check that
%% distribution, global and node monitoring work between unikernels.
-module(cluster).
-export([start/0, whoami/0]).

start() ->
    %% A short tick, so a lost node is noticed within seconds.
    net_kernel:set_net_ticktime(4, 0),
    Nodes = [list_to_atom(N) || N <- string:lexemes(os:getenv("BEAMRUN_NODES", ""), " ")],
    Peers = Nodes -- [node()],
    spawn(fun() -> run(lists:sort(Nodes), Peers) end).

whoami() ->
    {node(), erlang:system_info(schedulers_online)}.

run(Nodes, Peers) ->
    ok = net_kernel:monitor_nodes(true),
    connect(Peers, 600),
    io:format("cluster: connected to ~p~n", [lists:sort(nodes())]),
    %% tcp or tls: the protocol field of each connection's #net_address{}.
    {ok, Info} = net_kernel:nodes_info(),
    io:format("cluster: protocols ~p~n",
              [lists:usort([element(4, proplists:get_value(address, I)) || {_, I} <- Info])]),
    [Leader | _] = Nodes,
    case node() of
        Leader -> yes = global:register_name(cluster_leader, self());
        _ -> ok
    end,
    Seen = wait_leader(600),
    io:format("cluster: leader seen at ~p~n", [Seen]),
    case node() of
        Leader ->
            {Replies, Bad} = rpc:multicall(Nodes, ?MODULE, whoami, [], 10000),
            io:format("cluster: multicall ~p bad ~p~n", [lists:sort(Replies), Bad]);
        _ -> ok
    end,
    watch().

connect([], _) -> ok;
connect(_, 0) -> io:format("cluster: could not reach ~p~n", [nodes()]);
connect(Peers, Tries) ->
    Left = [P || P <- Peers, net_adm:ping(P) =/= pong],
    case Left of
        [] -> ok;
        _ -> timer:sleep(100), connect(Left, Tries - 1)
    end.

wait_leader(0) -> undefined;
wait_leader(Tries) ->
    case global:whereis_name(cluster_leader) of
        undefined -> timer:sleep(100), wait_leader(Tries - 1);
        Pid -> node(Pid)
    end.

watch() ->
    receive
        {nodedown, N} -> io:format("cluster: nodedown ~p~n", [N]);
        {nodeup, N} -> io:format("cluster: nodeup ~p~n", [N])
    end,
    watch().
