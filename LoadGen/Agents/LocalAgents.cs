using System.Diagnostics;
using System.Security.Cryptography;

namespace FinCore.LoadGen.Agents;

/// <summary><c>--agents N</c>: N agent processes of this same program on loopback, with a random token; ended with the run.</summary>
internal sealed class LocalAgents : IDisposable
{
    private readonly List<Process> processes = [];

    private LocalAgents(string token) => Token = token;

    public string Token { get; }

    public List<Uri> Addresses { get; } = [];

    public static async Task<LocalAgents> StartAsync(int count, CancellationToken ct)
    {
        var agents = new LocalAgents(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        try
        {
            for (var i = 0; i < count; i++)
            {
                agents.Addresses.Add(await agents.StartOneAsync(ct).ConfigureAwait(false));
            }
        }
        catch
        {
            agents.Dispose();
            throw;
        }

        return agents;
    }

    public void Dispose()
    {
        foreach (var p in processes)
        {
            try
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(5_000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            p.Dispose();
        }
    }

    private async Task<Uri> StartOneAsync(CancellationToken ct)
    {
        // The same program as this one: "dotnet FinCore.LoadGen.dll …", or the published single-file binary.
        var self = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true, UseShellExecute = false };

        // A coordinator may run with tiered compilation off (README: its CPU); agents keep the default, whose
        // profile-guided code sends faster.
        psi.Environment.Remove("DOTNET_TieredCompilation");
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(LocalAgents).Assembly.Location);
        }

        foreach (var a in new[] { "agent", "--listen", "127.0.0.1:0", "--token", Token })
        {
            psi.ArgumentList.Add(a);
        }

        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) =>
        {
            const string Prefix = "loadgen agent listening on ";
            if (e.Data is { } line && line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                listening.TrySetResult(new Uri(line[Prefix.Length..]));
            }
        };
        p.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("a local agent exited before listening"));
        p.EnableRaisingEvents = true;
        p.Start();
        processes.Add(p);
        p.BeginOutputReadLine();
        return await listening.Task.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
    }
}
