%% A static web site served by OTP's own web server (inets httpd): the
%% pages come from a volume, DIR (/srv unless given), on port 8080.
%%
%%   beamrun volume iso examples/httpd/www www.iso
%%   beamrun run -p 8080 -b www.iso,/srv httpd.img [PORT [DIR]]
-module(httpd_site).
-export([start/0, start/1]).

start() ->
    start(["8080"]).

start([Port]) ->
    start([Port, "/srv"]);
start([Port, Dir]) ->
    filelib:is_dir(Dir) orelse
        erlang:halt("httpd_site: " ++ Dir ++ ": no such directory"),
    ok = inets:start(),
    %% server_root holds httpd's run-time files: /tmp, the root being
    %% read-only.
    Config = [{port, list_to_integer(Port)},
              {bind_address, any},
              {server_name, "beamrun"},
              {server_root, "/tmp"},
              {document_root, Dir},
              {directory_index, ["index.html"]},
              {modules, [mod_alias, mod_dir, mod_get, mod_head]},
              {mime_types, [{"html", "text/html"}, {"htm", "text/html"},
                            {"css", "text/css"}, {"txt", "text/plain"},
                            {"png", "image/png"}, {"svg", "image/svg+xml"}]}],
    case inets:start(httpd, Config) of
        {ok, _Pid} ->
            io:format("httpd serving ~s on port ~s~n", [Dir, Port]);
        {error, Why} ->
            erlang:halt(lists:flatten(
                          io_lib:format("httpd_site: ~p", [Why])))
    end.
