%% What the TLS dependencies give in the guest, one line each, for
%% tests/boot/tls.sh (CASES.md: TLS-RUNTIME-DEPS, CRNG-GETRANDOM-STALL).
%% With arguments HOST PORT it also connects to a TLS server there and
%% verifies it against public_key:cacerts_get/0.
-module(tlscheck).
-export([start/0, start/1]).

start() ->
    start([]).

start(Args) ->
    {Us, Started} = timer:tc(fun() -> application:ensure_all_started(ssl) end),
    io:format("tlscheck: ssl started ~p in ~b ms~n", [element(1, Started), Us div 1000]),
    [{_, _, Lib}] = crypto:info_lib(),
    io:format("tlscheck: crypto library ~s~n", [Lib]),
    io:format("tlscheck: strong_rand_bytes ~b~n",
              [byte_size(crypto:strong_rand_bytes(32))]),
    io:format("tlscheck: sha256 abc ~s~n",
              [binary:encode_hex(crypto:hash(sha256, <<"abc">>))]),
    case catch public_key:cacerts_get() of
        L when is_list(L) -> io:format("tlscheck: cacerts ~b~n", [length(L)]);
        Other -> io:format("tlscheck: cacerts error ~0p~n", [strip(Other)])
    end,
    io:format("tlscheck: cacerts_load ~0p~n", [public_key:cacerts_load()]),
    connect(Args),
    init:stop().

connect([Host, Port]) ->
    CaCerts = case catch public_key:cacerts_get() of
                  L when is_list(L) -> L;
                  _ -> []
              end,
    Opts = [{verify, verify_peer}, {cacerts, CaCerts},
            {versions, ['tlsv1.3', 'tlsv1.2']}, {active, false}],
    case ssl:connect(Host, list_to_integer(Port), Opts, 30000) of
        {ok, S} ->
            {ok, [{protocol, V}]} = ssl:connection_information(S, [protocol]),
            io:format("tlscheck: verified connection ~s~n", [V]),
            ssl:close(S);
        {error, Why} ->
            io:format("tlscheck: connection refused by verification ~0p~n",
                      [Why])
    end;
connect(_) ->
    ok.

%% An exception's reason without its stack trace.
strip({'EXIT', {Reason, _Stack}}) -> {'EXIT', Reason};
strip(Other) -> Other.
