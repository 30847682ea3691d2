%% Prints what the release booted with, so that the tests can check the
%% boot script, sys.config, vm.args and erlexec's environment, and
%% markers when it stops (prep_stop/1, stop/1).
-module(reltest_app).
-behaviour(application).
-export([start/2, prep_stop/1, stop/1]).

start(_Type, _Args) ->
    {ok, Greeting} = application:get_env(reltest, greeting),
    io:format("reltest: up schedulers=~p node=~p~n",
              [erlang:system_info(schedulers), node()]),
    io:format("reltest: cookie=~p~n", [erlang:get_cookie()]),
    io:format("reltest: greeting=~s~n", [Greeting]),
    io:format("reltest: plain=~p env=~p~n",
              [init:get_plain_arguments(), os:getenv("RELTEST_ENV")]),
    io:format("reltest: mode=~p boot=~p~n",
              [code:get_mode(), init:get_argument(boot)]),
    %% CASES: BEAM-DIRECT-EXEC-ENV
    {ok, [[Progname]]} = init:get_argument(progname),
    {ok, [[Home]]} = init:get_argument(home),
    io:format("reltest: exec bindir=~s root=~s progname=~s home=~s~n",
              [os:getenv("BINDIR"), code:root_dir(), Progname, Home]),
    %% The applications after this one in the .rel (sasl) start later.
    spawn(fun() -> running(50) end),
    reltest_sup:start_link().

running(Tries) ->
    Apps = lists:sort([A || {A, _, _} <- application:which_applications()]),
    case lists:member(sasl, Apps) orelse Tries =:= 0 of
        true -> io:format("reltest: running=~w~n", [Apps]);
        false -> timer:sleep(100), running(Tries - 1)
    end.

prep_stop(State) ->
    io:format("reltest: prep_stop~n"),
    State.

stop(_State) ->
    io:format("reltest: stop~n"),
    ok.
