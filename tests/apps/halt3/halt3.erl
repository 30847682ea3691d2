%% Test app: stops the Erlang VM with status 3, which beamrun must return.
-module(halt3).
-export([start/0]).

start() ->
    io:format("halting with 3~n"),
    erlang:halt(3).
