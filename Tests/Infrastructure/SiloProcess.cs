using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FinCore.Tests.Infrastructure;

/// <summary>A real FinCore process (silo, gateway, PSP sandbox), configured by environment as a user runs it.</summary>
public sealed partial class SiloProcess : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _log;
    private readonly Process _process;

    private SiloProcess(Process process, ConcurrentQueue<string> log, int port, int httpPort)
    {
        _process = process;
        _log = log;
        Port = port;
        HttpPort = httpPort;
    }

    public int Port { get; }

    public int HttpPort { get; }

    public int Pid => _process.Id;

    public bool HasExited => _disposed || _process.HasExited;

    /// <summary>The master key every silo and gateway of the tests is given (base64 of 32 bytes; tests only).</summary>
    public const string MasterKey = "MzSWznThpXAKS3Y45zDTlUglhdjDxsncp+ES/JyE82w=";

    private bool _disposed;

    public int ExitCode => _process.ExitCode;

    public string Log => string.Join('\n', _log);

    private static readonly HttpClient MetricsHttp = new() { Timeout = TimeSpan.FromSeconds(5) };

    /// <summary>A metric on this silo's /metrics, summed over its series (labelled or not); 0 when it has none.</summary>
    public async Task<double> MetricAsync(string name)
    {
        double sum = 0;
        foreach (var line in (await MetricsHttp.GetStringAsync($"http://127.0.0.1:{HttpPort}/metrics")).Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal) || line.StartsWith(name + "{", StringComparison.Ordinal))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    /// <summary>A silo process (<c>dotnet FinCore.Silo.dll</c>) of <paramref name="clusterId"/>, trusting the cluster
    /// certificate at <paramref name="certificate"/>, hosting the test grains beside the payment grains.</summary>
    public static SiloProcess Start(string postgres, string clusterId, string certificate, IReadOnlyDictionary<string, string>? env = null)
    {
        var port = FreePort.Next();
        var httpPort = FreePort.Next();
        var vars = new Dictionary<string, string>
        {
            ["FINCORE_POSTGRES"] = postgres,
            ["FINCORE_CLUSTER_ID"] = clusterId,
            ["FINCORE_CLUSTER_CERT"] = certificate,
            ["FINCORE_MASTER_KEY"] = MasterKey,
            ["FINCORE_SILO_PORT"] = port.ToString(),
            ["FINCORE_GATEWAY_PORT"] = FreePort.Next().ToString(),
            ["FINCORE_HTTP_PORT"] = httpPort.ToString(),
            ["FINCORE_GRAIN_ASSEMBLIES"] = Path.Combine(AppContext.BaseDirectory, "FinCore.TestGrains.dll"),
        };
        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            vars[k] = v;
        }

        return Launch(Repo.Built("Silo", "FinCore.Silo.dll"), vars, port, httpPort);
    }

    /// <summary>A gateway process (<c>dotnet FinCore.Gateway.dll</c>) for the cluster; <see cref="HttpPort"/> is its API port.</summary>
    public static SiloProcess StartGateway(string postgres, string clusterId, string certificate, string adminToken, int? port = null, string pspSecret = "",
        IReadOnlyDictionary<string, string>? env = null)
    {
        var httpPort = port ?? FreePort.Next();
        var vars = new Dictionary<string, string>(env ?? new Dictionary<string, string>())
        {
            ["FINCORE_PSP_SECRET"] = pspSecret,
            ["FINCORE_POSTGRES"] = postgres,
            ["FINCORE_CLUSTER_ID"] = clusterId,
            ["FINCORE_CLUSTER_CERT"] = certificate,
            ["FINCORE_MASTER_KEY"] = MasterKey,
            ["FINCORE_ADMIN_TOKEN"] = adminToken,
            ["FINCORE_HTTP_PORT"] = httpPort.ToString(),
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        };
        return Launch(Repo.Built("Gateway", "FinCore.Gateway.dll"), vars, 0, httpPort);
    }

    /// <summary>The PSP sandbox process; its callbacks go to <paramref name="callbackUrl"/>.</summary>
    public static SiloProcess StartPsp(string pspSecret, string callbackUrl)
    {
        var httpPort = FreePort.Next();
        return Launch(Repo.Built("PspSandbox", "FinCore.PspSandbox.dll"), new Dictionary<string, string>
        {
            ["FINCORE_HTTP_PORT"] = httpPort.ToString(),
            ["FINCORE_PSP_SECRET"] = pspSecret,
            ["FINCORE_PSP_CALLBACK_URL"] = callbackUrl,
        }, 0, httpPort);
    }

    private static SiloProcess Launch(string dll, Dictionary<string, string> env, int port, int httpPort)
    {
        var log = new ConcurrentQueue<string>();
        var process = FinCore.Chaos.Processes.Start(dll, env, line => Append(log, line));
        return new SiloProcess(process, log, port, httpPort);
    }

    /// <summary>Keeps the last 2,000 lines the process wrote.</summary>
    private static void Append(ConcurrentQueue<string> log, string? line)
    {
        if (line is null)
        {
            return;
        }

        log.Enqueue(line);
        while (log.Count > 2000)
        {
            log.TryDequeue(out _);
        }
    }

    /// <summary>kill -9: no shutdown, no goodbye.</summary>
    public void Kill() => _process.Kill();

    /// <summary>SIGTERM: the silo drains and leaves gracefully.</summary>
    public void Terminate()
    {
        if (SysKill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
        }
    }

    /// <summary>SIGSTOP: the process is frozen (a long pause, a hung machine) but keeps its sockets.</summary>
    public void Pause() => Signal(19);

    /// <summary>SIGCONT: a paused process runs on.</summary>
    public void Resume() => Signal(18);

    private void Signal(int signal)
    {
        if (SysKill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {_process.Id} failed");
        }
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        _process.Dispose();
        _disposed = true;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
