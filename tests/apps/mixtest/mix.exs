# A tiny Elixir release for tests/boot/release.sh: no dependencies, so
# "MIX_ENV=prod mix release" runs offline.
defmodule Mixtest.MixProject do
  use Mix.Project

  def project do
    [app: :mixtest, version: "0.1.0", elixir: "~> 1.14",
     start_permanent: true, deps: []]
  end

  def application do
    [extra_applications: [:logger], mod: {Mixtest.Application, []}]
  end
end
