%% Test app for tests/boot/lifecycle.sh: how the guest starts, stops,
%% halts, crashes and reaps. The words after the image choose:
%%   (none), stop   start an OTP application whose prep_stop/1 and
%%                  stop/1 print a marker, and wait to be stopped
%%   hang           the same, but prep_stop/1 never returns
%%   halt N         erlang:halt(N)
%%   crash          erlang:halt(Slogan): a crash with a slogan
%%   orphans PATH   run PATH (tests/apps/orphans), then wait until no
%%                  zombie is left in /proc
-module(lifecycle).
-export([start/0, start/1]).

-define(SLOGAN, "lifecycle crash slogan").

start() ->
    start(["stop"]).

start(["stop"]) ->
    start_app(false);
start(["hang"]) ->
    start_app(true);
start(["halt", N]) ->
    erlang:halt(list_to_integer(N));
start(["crash"]) ->
    erlang:halt(?SLOGAN);
start(["orphans", Path]) ->
    orphans(Path).

%% TODO: bake copies only .erl and .beam files, so a lifecycle.app(.src)
%% in this directory would not reach the image and application:start/1
%% would fail with enoent; the resource is given to application:load/1
%% here instead.
start_app(Hang) ->
    ok = application:load({application, lifecycle,
                           [{description, "beamrun lifecycle test"},
                            {vsn, "1"},
                            {modules, [lifecycle, lifecycle_app]},
                            {registered, []},
                            {applications, [kernel, stdlib]},
                            {mod, {lifecycle_app, []}},
                            {env, [{hang, Hang}]}]}),
    {ok, _} = application:ensure_all_started(lifecycle),
    io:format("lifecycle: started~n").

%% The helper's grandchildren become orphans of PID 1 and exit; once the
%% helper is done, every one of them must have been reaped by the init.
orphans(Path) ->
    Port = open_port({spawn_executable, Path},
                     [{args, ["500"]}, {line, 256}, exit_status,
                      stderr_to_stdout]),
    {Lines, Status} = collect(Port, []),
    [io:format("lifecycle: helper: ~s~n", [L]) || L <- Lines],
    io:format("lifecycle: helper exited ~p~n", [Status]),
    First = length(zombies()),
    {Max, Left} = wait_reaped(First, deadline(30000)),
    io:format("lifecycle: zombies first ~p max ~p left ~p~n",
              [First, Max, Left]),
    case Left of
        0 -> init:stop();
        _ -> erlang:halt(2)
    end.

collect(Port, Acc) ->
    receive
        {Port, {data, {_, Line}}} -> collect(Port, [Line | Acc]);
        {Port, {exit_status, S}} -> {lists:reverse(Acc), S}
    after 60000 ->
        {lists:reverse(Acc), timeout}
    end.

deadline(Ms) ->
    erlang:monotonic_time(millisecond) + Ms.

wait_reaped(Max, Deadline) ->
    case length(zombies()) of
        0 ->
            {Max, 0};
        N ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> {max(Max, N), N};
                false -> timer:sleep(100), wait_reaped(max(Max, N), Deadline)
            end
    end.

%% Processes in state Z; /proc/PID/stat is "PID (COMM) STATE ...", and
%% COMM may hold spaces and parentheses, so the state follows the last ")".
zombies() ->
    [P || P <- filelib:wildcard("/proc/[0-9]*/stat"),
          {ok, B} <- [file:read_file(P)],
          state(B) =:= $Z].

state(Stat) ->
    case string:split(Stat, ")", trailing) of
        [_, <<" ", S, _/binary>>] -> S;
        _ -> unknown
    end.
