defmodule Mixtest.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    IO.puts("mixtest: hello from Elixir #{System.version()} on #{node()}, argv #{inspect(System.argv())}")
    Supervisor.start_link([], strategy: :one_for_one, name: Mixtest.Supervisor)
  end

  @impl true
  def stop(_state) do
    IO.puts("mixtest: stop")
    :ok
  end
end
