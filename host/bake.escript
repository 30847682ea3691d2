#!/usr/bin/env escript
%% beamrun bake's helper: questions about Erlang code that only Erlang
%% answers well (which OTP applications a set of modules needs, whether
%% a module exports its start function), and stripping of debug chunks.
%%
%%   bake.escript analyse EBIN MODULE [APP...]
%%       prints "otp_release R", "erts_vsn V", "root DIR",
%%       "start 0|1|none|missing" and one "app NAME DIR" per application
%%       needed: kernel, stdlib, the given APPs, the applications whose
%%       modules the code in EBIN calls, and their dependencies.
%%   bake.escript strip DIR...
%%       removes debug information from every .beam below each DIR.
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
main(_) ->
    fail("usage: bake.escript analyse EBIN MODULE [APP...] | strip DIR...",
         []).

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
    io:format("start ~s~n", [start_arity(Ebin, Start, Own)]),
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

start_arity(Ebin, Start, Own) ->
    case lists:member(Start, Own) of
        false -> "missing";
        true ->
            Beam = filename:join(Ebin, atom_to_list(Start) ++ ".beam"),
            {ok, {_, [{exports, Exp}]}} = beam_lib:chunks(Beam, [exports]),
            case {lists:member({start, 0}, Exp), lists:member({start, 1}, Exp)} of
                {true, _} -> "0";
                {false, true} -> "1";
                _ -> "none"
            end
    end.

%% One line on standard output, which beamrun reads and reports.
fail(Fmt, Args) ->
    io:format("error: " ++ Fmt ++ "~n", Args),
    halt(1).
