%% Test app: its start function crashes, so the boot fails with a slogan.
-module(crasher).
-export([start/0]).

start() ->
    erlang:error(beamrun_test_crash).
