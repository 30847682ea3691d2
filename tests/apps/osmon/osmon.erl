%% Test app for tests/boot/osmon.sh: what the calls that run other
%% programs do in a guest with no shell and no df (CASES:
%% OSMON-AND-OSCMD-WITHOUT-SHELL). Each call runs in its own process
%% with a deadline, and prints one "osmon CALL RESULT MS" line
%% ("timeout" when it did not answer), then the node's state, then
%% the VM stops. The word "permanent" after the image starts os_mon as
%% a release would, as a permanent application.
-module(osmon).
-export([start/0, start/1]).

-define(DEADLINE, 10000).

start() ->
    start([]).

start(Args) ->
    Type = case Args of
               ["permanent"] -> permanent;
               [] -> temporary
           end,
    call("cmd_true", fun() -> os:cmd("true") end),
    call("cmd_echo", fun() -> os:cmd("echo hi") end),
    call("start", fun() -> application:ensure_all_started(os_mon, Type) end),
    call("system_memory", fun() -> memsup:get_system_memory_data() end),
    call("memory", fun() -> memsup:get_memory_data() end),
    call("disk", fun() -> disksup:get_disk_data() end),
    call("util", fun() -> cpu_sup:util() end),
    call("avg1", fun() -> cpu_sup:avg1() end),
    %% A port program or a supervisor that failed would show as os_mon
    %% gone, or its servers restarted, a little later.
    Pids = servers(),
    timer:sleep(2000),
    line("running", lists:keymember(os_mon, 1,
                                    application:which_applications())),
    line("same_servers", Pids =:= servers()),
    line("alive", is_process_alive(whereis(init))),
    init:stop().

call(Name, F) ->
    Self = self(),
    T0 = erlang:monotonic_time(millisecond),
    {Pid, Ref} = spawn_monitor(fun() -> Self ! {self(), F()} end),
    R = receive
            {Pid, V} -> V;
            {'DOWN', Ref, process, Pid, Why} -> {'EXIT', Why}
        after ?DEADLINE ->
            exit(Pid, kill),
            timeout
        end,
    erlang:demonitor(Ref, [flush]),
    T = erlang:monotonic_time(millisecond) - T0,
    io:format("osmon ~s ~0p ~b~n", [Name, R, T]).

servers() ->
    [{N, whereis(N)} || N <- [os_mon_sup, memsup, disksup, cpu_sup]].

line(K, V) ->
    io:format("osmon ~s ~0p~n", [K, V]).
