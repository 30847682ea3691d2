%% Test app: prints what erlexec would normally have set up, one
%% "envcheck KEY VALUE" line each, then stops the VM.
-module(envcheck).
-export([start/0]).

start() ->
    %% Both taken before anything else runs (printing a line loads code):
    %% what starting kernel loads came in the boot script's first load
    %% list, none through the code server, and the modules that only the
    %% boot needs are not loaded (bake's lean boot script).
    Loaded = [M || {M, F} <- code:all_loaded(), F =/= preloaded],
    BootOnly = [M || M <- [erl_eval, erl_lint, erl_parse, erl_scan, epp, c],
                     code:is_loaded(M) =/= false],
    line("loaded_on_demand", loaded_on_demand(Loaded)),
    line("boot_only_loaded", BootOnly),
    [line(K, os:getenv(K)) || K <- ["ROOTDIR", "BINDIR", "EMU", "PROGNAME",
                                    "HOME", "LANG", "ERL_INETRC"]],
    line("root_dir", code:root_dir()),
    [line(A, init:get_argument(list_to_atom(A)))
     || A <- ["progname", "home", "bindir"]],
    line("port_limit", erlang:system_info(port_limit)),
    line("localhost", inet:gethostbyname("localhost")),
    {ok, Host} = inet:gethostname(),
    line("hostname", Host),
    line("lookup", inet_db:res_option(lookup)),
    line("cwd", file:get_cwd()),
    %% ...and they load again on first use.
    line("scan", erl_scan:string("ok.")),
    line("name_encoding", file:native_name_encoding()),
    %% The guest's swap: its devices, from the kernel's table.
    {ok, Swaps} = file:read_file("/proc/swaps"),
    line("swaps", [hd(binary:split(L, <<" ">>))
                   || L <- tl(binary:split(Swaps, <<"\n">>, [global, trim]))]),
    %% The kernel was given the APIC timer's rate (kernel/patches).
    line("apic_timer", kernel_log(<<"APIC timer">>)),
    init:stop().

loaded_on_demand(Loaded) ->
    {ok, Bin} = file:read_file(filename:join([code:root_dir(), "bin",
                                              "start.boot"])),
    {script, _, Steps} = binary_to_term(Bin),
    [First | _] = [Ms || {primLoad, Ms} <- Steps],
    lists:sort(Loaded -- [?MODULE | First]).

%% The first kernel log message that starts with Prefix in the first 4 KiB
%% of the log, read from /proc/kmsg ("<PRIO>TEXT" lines); none: false.
%% (/dev/kmsg gives a record a read, and Erlang's read asks for more.)
kernel_log(Prefix) ->
    {ok, F} = file:open("/proc/kmsg", [read, raw, binary]),
    {ok, Log} = file:read(F, 4096),
    ok = file:close(F),
    Texts = [T || L <- binary:split(Log, <<"\n">>, [global]),
                  [_, T] <- [binary:split(L, <<">">>)]],
    case [T || T <- Texts, binary:longest_common_prefix([T, Prefix])
                               =:= byte_size(Prefix)] of
        [First | _] -> First;
        [] -> false
    end.

line(K, V) ->
    io:format("envcheck ~s ~0p~n", [K, V]).
