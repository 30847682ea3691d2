%% A CPU-bound job for the SMP benchmark: 64 processes each compute
%% fib(N) the slow way; the wall time from the first spawn to the last
%% answer is printed in milliseconds, then the VM halts.
-module(cpujob).
-export([start/0, start/1]).

start() -> start(["22"]).

start([N]) ->
    Fib = list_to_integer(N),
    Self = self(),
    T0 = erlang:monotonic_time(millisecond),
    Pids = [spawn(fun() -> Self ! {self(), fib(Fib)} end) || _ <- lists:seq(1, 64)],
    [receive {P, _} -> ok end || P <- Pids],
    T1 = erlang:monotonic_time(millisecond),
    io:format("cpujob: ~p schedulers, ~p ms~n",
              [erlang:system_info(schedulers_online), T1 - T0]),
    halt().

fib(0) -> 0;
fib(1) -> 1;
fib(N) -> fib(N - 1) + fib(N - 2).
