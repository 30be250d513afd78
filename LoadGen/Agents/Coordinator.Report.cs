using FinCore.LoadGen.Metrics;
using FinCore.LoadGen.Reports;

namespace FinCore.LoadGen.Agents;

/// <summary>The merged report: the agents' results added up as if one generator had sent everything.</summary>
internal sealed partial class Coordinator
{
    private RunReport BuildReport(DateTimeOffset startedAt, double coordinatorCpuS)
    {
        // A lost agent's figures are the seconds it delivered before it was lost.
        var measured = new Totals(concurrent: false);
        foreach (var a in agents)
        {
            measured.Add(a.Result?.Measured ?? a.FromSeconds.Encode());
        }

        var results = agents.Where(a => a.Result is not null).Select(a => a.Result!).ToList();
        var segments = new List<SegmentFigures>();
        for (var i = 0; i < plan.Count; i++)
        {
            var parts = results.SelectMany(r => r.Segments).Where(s => s.Index == i).ToList();
            if (parts.Count == 0)
            {
                continue;
            }

            var totals = new Totals(concurrent: false);
            foreach (var p in parts)
            {
                totals.Add(p.Totals);
            }

            segments.Add(new SegmentFigures(plan[i].Phase, plan[i].Measured, parts.Min(p => p.StartS), parts.Max(p => p.EndS), totals, parts.Select(p => p.EndedBy).FirstOrDefault(e => e is not null)));
        }

        var agentCpu = results.Sum(r => r.CpuSeconds);
        var figures = new RunFigures(
            measured,
            segments,
            results.Count > 0 ? results.Max(r => r.MeasuredSeconds) : Math.Max(1, measuredRows),
            rows,
            agents.Sum(a => a.Result?.SentAll ?? a.SentFromSeconds),
            TimeSpan.FromSeconds(agentCpu),
            results.Count > 0 ? results.Max(r => r.PeakWorkingSetMb) : rows.Select(r => r.WorkingSetMb).DefaultIfEmpty(0).Max(),
            results.Sum(r => r.PeakBacklog),
            aborted ?? results.Select(r => r.Aborted).FirstOrDefault(x => x is not null));

        var lost = agents.Where(a => a.Lost is not null).Select(a => a.Name).ToList();
        var table = agents.Select(a =>
        {
            var t = a.Result?.Measured;
            var fallback = a.FromSeconds;
            return new AgentFigures(
                a.Name,
                a.Lost is null ? a.State : "lost",
                t?.Scheduled ?? fallback.Scheduled,
                t?.Sent ?? fallback.Sent,
                t?.Dropped ?? fallback.Dropped,
                t?.Late ?? fallback.Late,
                a.Result?.CpuAvgPct ?? (a.CpuSecondsCounted == 0 ? 0 : Math.Round(a.CpuFromSecondsSum / a.CpuSecondsCounted, 1)),
                Math.Round(a.Result?.CpuSeconds ?? 0, 2),
                Math.Round(a.ClockOffsetMs, 3),
                a.Lost);
        }).ToList();

        var report = ReportBuilder.Build(settings, figures, startedAt, breaking?.Invoke());
        return report with
        {
            Passed = report.Passed && (lost.Count == 0 || tolerateLoss),
            Distributed = new Distributed(table, lost, tolerateLoss, Math.Round(coordinatorCpuS, 3), agentCpu <= 0 ? 0 : Math.Round(coordinatorCpuS / agentCpu * 100, 2)),
        };
    }
}
