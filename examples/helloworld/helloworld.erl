%% Prints a greeting, then stops the Erlang VM (and with it the VM).
-module(helloworld).
-export([start/0]).

start() ->
    io:format("Hello, world!~n"),
    init:stop().
