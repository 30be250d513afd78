using System.Diagnostics;

namespace FinCore.Tests.Infrastructure;

/// <summary>A <c>loadgen agent</c> process on loopback (any free port), as an operator starts one on a load machine.</summary>
internal sealed class LoadGenAgent : IAsyncDisposable
{
    private readonly Process process;

    private LoadGenAgent(Process process, Uri url)
    {
        this.process = process;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>host:port, as <c>--agents</c> takes it.</summary>
    public string Address => Url.Authority;

    public static async Task<LoadGenAgent> StartAsync(string token, string? dumpLatencies = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Repo.Built("LoadGen", "FinCore.LoadGen.dll"), "agent", "--listen", "127.0.0.1:0", "--token", token })
        {
            psi.ArgumentList.Add(a);
        }

        if (dumpLatencies is not null)
        {
            psi.ArgumentList.Add("--dump-latencies");
            psi.ArgumentList.Add(dumpLatencies);
        }

        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        const string Prefix = "loadgen agent listening on ";
        while (await p.StandardOutput.ReadLineAsync(cts.Token) is { } line)
        {
            if (line.StartsWith(Prefix, StringComparison.Ordinal))
            {
                // Keep draining its output so it never blocks on a full pipe.
                _ = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
                return new LoadGenAgent(p, new Uri(line[Prefix.Length..]));
            }
        }

        throw new InvalidOperationException("the agent exited before listening");
    }

    public void Kill() => process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }
}
