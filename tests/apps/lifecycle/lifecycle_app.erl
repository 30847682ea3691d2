%% Test app: the application callback (and its empty top supervisor)
%% of tests/apps/lifecycle; each stop step prints a marker.
-module(lifecycle_app).
-behaviour(application).
-behaviour(supervisor).
-export([start/2, prep_stop/1, stop/1, init/1]).

start(_Type, _Args) ->
    supervisor:start_link(?MODULE, []).

init([]) ->
    {ok, {#{}, []}}.

prep_stop(State) ->
    io:format("lifecycle: prep_stop~n"),
    case application:get_env(lifecycle, hang) of
        {ok, true} ->
            io:format("lifecycle: prep_stop hangs~n"),
            timer:sleep(infinity);
        _ ->
            State
    end.

stop(_State) ->
    io:format("lifecycle: stop~n").
