%% Test app for crash consistency: an append-only ledger of numbered
%% records in /data/ledger that acknowledges a record to its client only
%% once file:datasync/1 has put it on the disk.
%%
%% A record is one line, "N LEN PAYLOAD CRC": N counts from 1, PAYLOAD
%% is LEN copies of one letter (both follow from N, so the host can check
%% the file too) and CRC is the CRC-32 of what comes before it, in hex.
%% On each boot the app keeps the longest prefix of valid, consecutive
%% records, cuts the rest (a record torn by a crash) and prints
%% "ledger: have N, cut B bytes". Then it serves one client at a time on
%% port 7000: it sends "have N"; the client answers "append" (records
%% N+1, N+2, ... follow, each acknowledged with "ack K" after its sync,
%% until the client goes away) or "quit" (the VM stops).
%%
%% start(["nosync"]) acknowledges without syncing: a broken ledger the
%% tests use to show that their check catches lost records.
-module(ledger).
-export([start/0, start/1]).

-define(PORT, 7000).
-define(LEDGER, "/data/ledger").

start() ->
    start([]).

%% start/0 runs in a process that ends when it returns, and a raw file
%% may only be used by the process that opened it: the ledger gets a
%% process of its own.
start(Args) ->
    Sync = not lists:member("nosync", Args),
    spawn(fun() -> main(Sync) end),
    ok.

main(Sync) ->
    try
        {ok, F} = file:open(?LEDGER, [read, write, raw, binary]),
        {Have, Cut} = recover(F),
        io:format("ledger: have ~b, cut ~b bytes~n", [Have, Cut]),
        {ok, L} = gen_tcp:listen(?PORT, [binary, {packet, line},
                                         {active, false}, {reuseaddr, true}]),
        io:format("ledger: listening on ~b~s~n",
                  [?PORT, case Sync of
                              true -> "";
                              false -> " (nosync: acks before the sync)"
                          end]),
        serve(L, F, Have, Sync)
    catch
        C:R:St ->
            io:format("ledger: ~p:~p ~p~n", [C, R, St]),
            erlang:halt(1)
    end.

%% The longest valid prefix stays; a torn tail is cut and the cut synced
%% before anything new is written after it.
recover(F) ->
    {ok, Size} = file:position(F, eof),
    Bin = case Size of
              0 -> <<>>;
              _ -> {ok, B} = file:pread(F, 0, Size), B
          end,
    {Have, Keep} = scan(Bin, 0, 0),
    if
        Keep < Size ->
            {ok, Keep} = file:position(F, Keep),
            ok = file:truncate(F),
            ok = file:sync(F);
        true ->
            ok
    end,
    {ok, Keep} = file:position(F, Keep),
    {Have, Size - Keep}.

scan(Bin, Off, N) ->
    case binary:match(Bin, <<"\n">>, [{scope, {Off, byte_size(Bin) - Off}}]) of
        nomatch ->
            {N, Off};
        {Nl, 1} ->
            case valid(binary:part(Bin, Off, Nl - Off), N + 1) of
                true -> scan(Bin, Nl + 1, N + 1);
                false -> {N, Off}
            end
    end.

valid(Line, Want) ->
    try
        [Num, Len, Payload, Crc] = binary:split(Line, <<" ">>, [global]),
        binary_to_integer(Num) =:= Want andalso
            binary_to_integer(Len) =:= byte_size(Payload) andalso
            Payload =:= payload(Want) andalso
            binary_to_integer(Crc, 16) =:=
                erlang:crc32([Num, $\s, Len, $\s, Payload])
    catch
        error:_ -> false
    end.

payload(N) ->
    binary:copy(<<($a + N rem 26)>>, 16 + N * 37 rem 200).

record(N) ->
    P = payload(N),
    Body = [integer_to_binary(N), $\s, integer_to_binary(byte_size(P)),
            $\s, P],
    [Body, $\s, io_lib:format("~8.16.0b", [erlang:crc32(Body)]), $\n].

serve(L, F, N, Sync) ->
    {ok, S} = gen_tcp:accept(L),
    ok = gen_tcp:send(S, ["have ", integer_to_binary(N), $\n]),
    case gen_tcp:recv(S, 0, 30000) of
        {ok, <<"append\n">>} ->
            serve(L, F, append(S, F, N + 1, Sync), Sync);
        {ok, <<"quit\n">>} ->
            ok = file:close(F),
            io:format("ledger: stopping with ~b records~n", [N]),
            init:stop();
        _ ->
            gen_tcp:close(S),
            serve(L, F, N, Sync)
    end.

%% Appends records from N until the client goes away; the last written.
append(S, F, N, Sync) ->
    ok = file:write(F, record(N)),
    case Sync of
        true -> ok = file:datasync(F);
        false -> ok
    end,
    case gen_tcp:send(S, ["ack ", integer_to_binary(N), $\n]) of
        ok ->
            append(S, F, N + 1, Sync);
        {error, _} ->
            gen_tcp:close(S),
            N
    end.
