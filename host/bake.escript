#!/usr/bin/env escript
%% beamrun bake's helper: questions about Erlang code that only Erlang
%% answers well (which OTP applications a set of modules needs, whether
%% a module exports its start function), and stripping of debug chunks.
%%
%%   bake.escript analyse EBIN MODULE [APP...]
%%       prints "otp_release R", "erts_vsn V", "root DIR",
%%       "start 0|1|none|missing", "start1 yes|no" (start/1 exported,
%%       for run's arguments) and one "app NAME DIR" per application
%%       needed: kernel, stdlib, the given APPs, the applications whose
%%       modules the code in EBIN calls, and their dependencies.
%%   bake.escript strip DIR...
%%       removes debug information from every .beam below each DIR.
%%   bake.escript release DIR
%%       reads the OTP release in DIR (relx, systools or mix release)
%%       and prints "name N", "vsn V", "erts E", "bundled yes|no",
%%       "kind relx|mix", "host_root DIR", "otp_release R" (the host's,
%%       or "-" when the release's ERTS is not the host's), "vm_args
%%       yes|no" and one "app NAME-VSN DIR" per application in its .rel.
%%   bake.escript boot IN OUT
%%       writes OUT, the boot script of an image of loose modules, made
%%       from IN (OTP's no_dot_erlang.boot); see lean_boot/2.
-mode(compile).

main(["analyse", Ebin, Module | Extra]) ->
    analyse(Ebin, list_to_atom(Module), [list_to_atom(A) || A <- Extra]);
main(["strip" | Dirs]) ->
    Files = lists:append([filelib:wildcard(filename:join(D, "**/*.beam"))
                          || D <- Dirs]),
    case beam_lib:strip_files(Files) of
        {ok, _} -> ok;
        {error, beam_lib, Why} -> fail("strip: ~p", [Why])
    end;
main(["release", Dir]) ->
    release(Dir);
main(["boot", In, Out]) ->
    lean_boot(In, Out);
main(_) ->
    fail("usage: bake.escript analyse EBIN MODULE [APP...] | strip DIR... "
         "| release DIR | boot IN OUT", []).

analyse(Ebin, Start, Extra) ->
    Beams = filelib:wildcard(filename:join(Ebin, "*.beam")),
    Own = [list_to_atom(filename:basename(B, ".beam")) || B <- Beams],
    Called = lists:usort(lists:append([imports(B) || B <- Beams])) -- Own,
    FromCalls = lists:usort([A || M <- Called, A <- [app_of(M)], A =/= none]),
    Wanted = lists:usort([kernel, stdlib | Extra ++ FromCalls]),
    Apps = closure(Wanted, []),
    io:format("otp_release ~s~n", [erlang:system_info(otp_release)]),
    io:format("erts_vsn ~s~n", [erlang:system_info(version)]),
    io:format("root ~s~n", [code:root_dir()]),
    Exports = start_exports(Ebin, Start, Own),
    io:format("start ~s~n", [start_arity(Exports)]),
    io:format("start1 ~s~n", [yes_no(exports_start1(Exports))]),
    [io:format("app ~s ~s~n", [A, code:lib_dir(A)]) || A <- Apps],
    ok.

imports(Beam) ->
    case beam_lib:chunks(Beam, [imports]) of
        {ok, {_, [{imports, Imports}]}} ->
            lists:usort([M || {M, _F, _A} <- Imports]);
        {error, beam_lib, Why} ->
            fail("~s: not a usable .beam file (~0p)",
                 [filename:basename(Beam), element(1, Why)])
    end.

%% The OTP application a module belongs to, by where the code server
%% finds it; preloaded modules belong to erts and need nothing.
%% TODO: only direct calls (imports) count; an application reached only
%% through apply/3 or spawn/3 is missed unless given with --app.
app_of(Mod) ->
    case code:which(Mod) of
        Path when is_list(Path) ->
            Root = code:lib_dir(),
            case lists:prefix(Root, Path) of
                true ->
                    [AppVsn | _] = filename:split(
                                     lists:nthtail(length(Root) + 1, Path)),
                    app_name(AppVsn);
                false -> none
            end;
        _ -> none
    end.

app_name(AppVsn) ->
    [Name | _] = string:split(AppVsn, "-"),
    list_to_atom(Name).

closure([], Done) ->
    lists:sort(Done);
closure([A | Rest], Done) ->
    case lists:member(A, Done) of
        true -> closure(Rest, Done);
        false ->
            case code:lib_dir(A) of
                {error, bad_name} ->
                    fail("OTP application ~s is not installed on this host",
                         [A]);
                _ -> closure(deps(A) ++ Rest, [A | Done])
            end
    end.

deps(A) ->
    File = filename:join([code:lib_dir(A), "ebin", atom_to_list(A) ++ ".app"]),
    case file:consult(File) of
        {ok, [{application, A, Keys}]} ->
            proplists:get_value(applications, Keys, []) ++
                proplists:get_value(included_applications, Keys, []);
        _ -> []
    end.

%% The start module's exports, read once; missing when it is not one of
%% the image's own modules.
start_exports(Ebin, Start, Own) ->
    case lists:member(Start, Own) of
        false -> missing;
        true ->
            Beam = filename:join(Ebin, atom_to_list(Start) ++ ".beam"),
            {ok, {_, [{exports, Exp}]}} = beam_lib:chunks(Beam, [exports]),
            Exp
    end.

start_arity(missing) -> "missing";
start_arity(Exp) ->
    case {lists:member({start, 0}, Exp), lists:member({start, 1}, Exp)} of
        {true, _} -> "0";
        {false, true} -> "1";
        _ -> "none"
    end.

%% Whether the start module also takes run's arguments (start/1).
exports_start1(missing) -> false;
exports_start1(Exp) -> lists:member({start, 1}, Exp).

%% An OTP release as relx (rebar3 release), systools or mix lay it out:
%% releases/start_erl.data ("ERTS VSN") or RELEASES name the version,
%% releases/VSN/ holds NAME.rel, start.boot, sys.config and vm.args,
%% lib/ the applications and erts-ERTS/ the runtime when bundled.
release(Dir) ->
    {Vsn, DataErts} = release_vsn(Dir),
    VsnDir = filename:join([Dir, "releases", Vsn]),
    Rel = case filelib:wildcard(filename:join(VsnDir, "*.rel")) of
              [R] -> R;
              [] -> fail("~s: no .rel file (not a release)", [VsnDir]);
              _ -> fail("~s: several .rel files; keep one", [VsnDir])
          end,
    {Name, Erts, Apps} =
        case file:consult(Rel) of
            {ok, [{release, {N, _}, {erts, E}, As}]} -> {N, E, As};
            {ok, _} -> fail("~s: not a release specification", [Rel]);
            {error, Why} ->
                fail("~s: ~s", [Rel, file:format_error(Why)])
        end,
    [fail("~s: no start.boot (not a release)", [VsnDir])
     || not filelib:is_regular(filename:join(VsnDir, "start.boot"))],
    [fail("releases/start_erl.data names ERTS ~s but ~s needs ~s",
          [DataErts, filename:basename(Rel), Erts])
     || DataErts =/= none, DataErts =/= Erts],
    [fail("~s: ~s needs substitution at start time, which beamrun does "
          "not do; give the release a plain ~s",
          [VsnDir, Src, filename:rootname(Src)])
     || Src <- ["vm.args.src", "sys.config.src"],
        filelib:is_regular(filename:join(VsnDir, Src)),
        not filelib:is_regular(
              filename:join(VsnDir, filename:rootname(Src)))],
    HostErts = erlang:system_info(version),
    Bundled = filelib:is_regular(
                filename:join([Dir, "erts-" ++ Erts, "bin", "beam.smp"])),
    case Bundled orelse Erts =:= HostErts of
        true -> ok;
        false ->
            Has = [filename:basename(E)
                   || E <- filelib:wildcard(filename:join(Dir, "erts-*"))],
            fail("release ~s-~s needs ERTS ~s: it bundles ~s and the "
                 "host's is ~s", [Name, Vsn, Erts,
                                  case Has of
                                      [] -> "none";
                                      _ -> lists:join(", ", Has)
                                  end, HostErts])
    end,
    Mix = filelib:wildcard(filename:join(Dir, "lib/elixir-*")) =/= [],
    [fail("~s: runtime configuration (RUNTIME_CONFIG=true, "
          "config/runtime.exs) is not supported yet", [VsnDir])
     || Mix, runtime_config(filename:join(VsnDir, "sys.config"))],
    io:format("name ~s~nvsn ~s~nerts ~s~n", [Name, Vsn, Erts]),
    io:format("bundled ~s~n", [yes_no(Bundled)]),
    io:format("kind ~s~n", [case Mix of true -> mix; false -> relx end]),
    io:format("host_root ~s~n", [code:root_dir()]),
    io:format("otp_release ~s~n",
              [case Erts of
                   HostErts -> erlang:system_info(otp_release);
                   _ -> "-"
               end]),
    io:format("vm_args ~s~n", [yes_no(filelib:is_regular(
                                        filename:join(VsnDir, "vm.args")))]),
    [io:format("app ~s-~s ~s~n", [A, V, app_dir(Dir, A, V, Erts, HostErts)])
     || {A, V} <- [{element(1, T), element(2, T)} || T <- Apps]],
    ok.

release_vsn(Dir) ->
    Data = filename:join([Dir, "releases", "start_erl.data"]),
    case file:read_file(Data) of
        {ok, B} ->
            case string:lexemes(binary_to_list(B), " \t\r\n") of
                [E, V] -> {V, E};
                _ -> fail("~s: expected \"ERTS_VSN REL_VSN\"", [Data])
            end;
        {error, _} ->
            case file:consult(filename:join([Dir, "releases", "RELEASES"])) of
                {ok, [Rels]} when is_list(Rels) ->
                    case [V || {release, _, V, _, _, permanent} <- Rels] of
                        [V] -> {V, none};
                        _ -> one_vsn(Dir)
                    end;
                _ -> one_vsn(Dir)
            end
    end.

one_vsn(Dir) ->
    case filelib:wildcard(filename:join([Dir, "releases", "*", "start.boot"])) of
        [Boot] -> {filename:basename(filename:dirname(Boot)), none};
        [] -> fail("~s: not a release (no releases/VSN/start.boot)", [Dir]);
        _ -> fail("~s: several release versions and no start_erl.data "
                  "to choose one", [Dir])
    end.

%% A mix release whose config/runtime.exs is read at every start.
runtime_config(SysConfig) ->
    case file:read_file(SysConfig) of
        {ok, B} -> binary:match(B, <<"RUNTIME_CONFIG=true">>) =/= nomatch;
        _ -> false
    end.

%% The release's own copy, else the host's (same ERTS only: relx
%% without system_libs leaves OTP's applications to the host).
app_dir(Dir, A, V, Erts, HostErts) ->
    AV = lists:flatten(io_lib:format("~s-~s", [A, V])),
    Own = filename:join([Dir, "lib", AV]),
    Host = filename:join([code:root_dir(), "lib", AV]),
    case {filelib:is_dir(Own), filelib:is_dir(Host)} of
        {true, _} -> Own;
        {false, true} when Erts =:= HostErts -> Host;
        _ -> fail("application ~s is neither in ~s/lib nor on the host",
                  [AV, Dir])
    end.

%% OTP's no_dot_erlang boot script (kernel and stdlib; no .erlang to
%% read, there is no home directory worth reading in the guest) with two
%% changes for small guests, both about code that only the boot uses:
%% - the first load list, which init loads before anything runs, loses
%%   the parser, the linter and the evaluator: starting kernel needs
%%   none of them, and in interactive mode they load on first use;
%% - once kernel has started, the modules that reading the inetrc
%%   loaded (the scanner, the parser, epp for the file's encoding) are
%%   unloaded again. soft_purge leaves them be if a process still runs
%%   their code; they load again on first use.
%% Together about 1.3 MB of interpreted code in a guest of 32 MB.
%% And one for speed: the modules that starting kernel and stdlib loads
%% one at a time through the code server (global, inet_db, the logger's
%% handler...) join that first load list, which init reads in one go;
%% which ones they are, the host's erl tells by booting the script
%% (boot_loads/2). Under TCG that is about 80 ms less to the first echo.
lean_boot(In, Out) ->
    {Id, Steps} = case file:read_file(In) of
                {ok, Bin} ->
                    try binary_to_term(Bin) of
                        {script, Id0, S} when is_list(S) -> {Id0, S};
                        _ -> fail("~s: not a boot script", [In])
                    catch error:badarg -> fail("~s: not a boot script", [In])
                    end;
                {error, Why} -> fail("~s: ~s", [In, file:format_error(Why)])
            end,
    Lazy = [erl_eval, erl_lint, erl_parse],
    Unload = [erl_parse, erl_scan, epp, erl_anno],
    KernelUp = {apply, {application, start_boot, [kernel, permanent]}},
    [fail("~s: no step that starts kernel", [In]) || not lists:member(KernelUp, Steps)],
    {Lean, _} = lists:mapfoldl(
                  fun({primLoad, Ms}, first) -> {[{primLoad, Ms -- Lazy}], done};
                     (S, Where) when S =:= KernelUp ->
                          {[S | [{apply, {code, F, [M]}} || M <- Unload,
                                                           F <- [delete, soft_purge]]],
                           Where};
                     (S, Where) -> {[S], Where}
                  end, first, Steps),
    Script0 = {script, Id, lists:append(Lean)},
    write_boot(Out, Script0),
    Eager = boot_loads(Out, first_load(Script0)),
    {script, Id, Steps1} = Script0,
    {Steps2, _} = lists:mapfoldl(
                    fun({primLoad, Ms}, first) -> {{primLoad, Ms ++ Eager}, done};
                       (S, Where) -> {S, Where}
                    end, first, Steps1),
    write_boot(Out, {script, Id, Steps2}).

first_load({script, _, Steps}) ->
    hd([Ms || {primLoad, Ms} <- Steps]).

write_boot(Out, Script) ->
    case file:write_file(Out, term_to_binary(Script)) of
        ok -> ok;
        {error, Why} -> fail("~s: ~s", [Out, file:format_error(Why)])
    end.

%% The modules, other than the preloaded ones and those of the first
%% load list, that booting Boot (a .boot file) has loaded by the time
%% its start function runs, as the host's erl (the OTP being baked)
%% sees it: a probe module of our own is the start function and prints
%% them. No ERL_*FLAGS of the user's reach it.
boot_loads(Boot, First) ->
    Dir = filename:dirname(Boot),
    Probe = beamrun_boot_probe,
    Src = "-module(beamrun_boot_probe).\n"
          "-export([start/0]).\n"
          "start() ->\n"
          "    io:format(\"~w~n\", [[M || {M, F} <- code:all_loaded(),\n"
          "                               F =/= preloaded]]),\n"
          "    halt().\n",
    {ok, Toks0, _} = erl_scan:string(Src),
    Forms = [begin {ok, F} = erl_parse:parse_form(T), F end
             || T <- split_forms(Toks0, [])],
    {ok, Probe, Beam} = compile:forms(Forms, [report_errors]),
    BeamFile = filename:join(Dir, atom_to_list(Probe) ++ ".beam"),
    ok = file:write_file(BeamFile, Beam),
    Erl = filename:join([code:root_dir(), "bin", "erl"]),
    Port = open_port({spawn_executable, Erl},
                     [{args, ["-boot", filename:rootname(Boot), "-noshell",
                              "-noinput", "-pa", Dir, "-s", atom_to_list(Probe)]},
                      {env, [{V, false} || V <- ["ERL_AFLAGS", "ERL_FLAGS",
                                                 "ERL_ZFLAGS"]]},
                      exit_status, stderr_to_stdout, binary]),
    {Status, Output} = port_output(Port, []),
    ok = file:delete(BeamFile),
    Loaded = try
                 0 = Status,
                 {ok, Toks, _} = erl_scan:string(binary_to_list(Output) ++ "."),
                 {ok, L} = erl_parse:parse_term(Toks),
                 L
             catch _:_ ->
                 fail("the host's erl could not boot the image's boot script "
                      "(status ~w): ~s", [Status, string:trim(Output)])
             end,
    lists:sort(Loaded -- [Probe]) -- First.

split_forms([], []) -> [];
split_forms([{dot, _} = D | T], Acc) -> [lists:reverse([D | Acc]) | split_forms(T, [])];
split_forms([Tok | T], Acc) -> split_forms(T, [Tok | Acc]).

port_output(Port, Acc) ->
    receive
        {Port, {data, D}} -> port_output(Port, [Acc, D]);
        {Port, {exit_status, S}} -> {S, iolist_to_binary(Acc)}
    end.

yes_no(true) -> "yes";
yes_no(false) -> "no".

%% One line on standard output, which beamrun reads and reports.
fail(Fmt, Args) ->
    io:format("error: " ++ Fmt ++ "~n", Args),
    halt(1).
