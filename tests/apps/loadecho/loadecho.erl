%% Bench app for bench/load.sh: examples/echoserver (baked beside it)
%% plus a line on the console every few seconds with the guest's memory:
%% "loadecho: total=B rss_kb=K used_kb=K processes=N ports=N", where
%% total is erlang:memory(total), rss_kb the Erlang VM's VmRSS and
%% used_kb the guest kernel's MemTotal - MemAvailable (socket buffers
%% included). start([Secs]) sets the period (5 s by default).
-module(loadecho).
-export([start/0, start/1]).

start() ->
    start(["5"]).

start([Secs]) ->
    echoserver:start(),
    spawn(fun() -> report(list_to_integer(Secs) * 1000) end),
    ok.

report(Ms) ->
    io:format("loadecho: total=~b rss_kb=~b used_kb=~b processes=~b "
              "ports=~b~n",
              [erlang:memory(total),
               kb("/proc/self/status", <<"VmRSS">>),
               kb("/proc/meminfo", <<"MemTotal">>) -
                   kb("/proc/meminfo", <<"MemAvailable">>),
               erlang:system_info(process_count),
               erlang:system_info(port_count)]),
    timer:sleep(Ms),
    report(Ms).

%% The value of a "Key:   123 kB" line of a /proc file, in KiB.
kb(File, Key) ->
    {ok, Text} = file:read_file(File),
    [Value] = [V || Line <- binary:split(Text, <<"\n">>, [global]),
                    [K, V] <- [binary:split(Line, <<":">>)], K =:= Key],
    [Num | _] = binary:split(string:trim(Value), <<" ">>),
    binary_to_integer(Num).
