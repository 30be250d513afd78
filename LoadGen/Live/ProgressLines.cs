using FinCore.LoadGen.Plans;

namespace FinCore.LoadGen.Live;

/// <summary>One plain line per update on standard error, for logs and CI.</summary>
internal sealed class ProgressLines : IProgressView
{
    public void Show(ProgressSnapshot s)
    {
        var last = s.Last;
        var agents = s.Agents is { } a ? $"agents {a.Count(x => x.Lost is null)}/{a.Count} | " : "";
        Console.Error.WriteLine(
            $"[{Durations.Format(TimeSpan.FromSeconds(s.Second)),6}] {s.Phase} ({s.PhasePosition}) target {s.TargetRate:0}/s | {agents}" +
            $"sent {s.Sent} done {s.Completed} err {s.Errors} ({s.ErrorRate * 100:0.##}%) dropped {s.Dropped} | " +
            $"second {last?.T ?? 0}: {last?.Completed ?? 0}/s p99 {last?.P99 ?? 0:0.##}ms service p99 {last?.ServiceP99 ?? 0:0.##}ms | backlog {s.Backlog} cpu {last?.CpuPct ?? 0:0}%");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
