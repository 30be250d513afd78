using System.Diagnostics;

namespace FinCore.Chaos;

/// <summary>Starting, stopping and killing the cluster's processes, with their output kept in a log file.</summary>
internal static class Processes
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Built(string project, string assembly) => Path.Combine(RepoRoot, project, "bin", "Release", "net10.0", assembly);

    /// <summary>Starts <c>dotnet <paramref name="dll"/></c> with <paramref name="env"/>; its output goes to a log file.</summary>
    public static Process Start(string dll, IReadOnlyDictionary<string, string> env, string logFile, params string[] args)
    {
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var gate = new Lock();
        var closed = false;
        return Start(dll, env, line =>
        {
            lock (gate)
            {
                if (line is null)
                {
                    // End of one of the two streams; the other may still be draining. Close after the second.
                    if (closed)
                    {
                        log.Dispose();
                    }

                    closed = true;
                    return;
                }

                log.WriteLine(line);
            }
        }, args);
    }

    /// <summary>Starts <c>dotnet <paramref name="dll"/></c> with <paramref name="env"/>; every line it writes (standard
    /// output and error) goes to <paramref name="onLine"/>, and null once for each stream at its end.</summary>
    public static Process Start(string dll, IReadOnlyDictionary<string, string> env, Action<string?> onLine, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["DOTNET_gcServer"] = "0";
        foreach (var (k, v) in env)
        {
            psi.Environment[k] = v;
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => onLine(e.Data);
        process.ErrorDataReceived += (_, e) => onLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task<string> RunAsync(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stderr}");
        }

        return (await stdout).Trim();
    }

    public static void Kill(Process p)
    {
        try
        {
            p.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    public static async Task TerminateAsync(Process p, TimeSpan grace)
    {
        if (p.HasExited)
        {
            return;
        }

        await RunAsync("kill", "-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var cts = new CancellationTokenSource(grace);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(p);
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FinCore.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("cannot find FinCore.sln above " + AppContext.BaseDirectory);
    }
}
