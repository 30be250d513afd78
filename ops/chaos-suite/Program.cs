using System.Globalization;
using FinCore.Chaos;

// ops/chaos [--long] [--scenario NAME]... [--rate CHARGES_PER_SECOND] [--silos 3] [--warmup SECONDS] [--out DIR]
var longRun = args.Contains("--long");
// Two minutes of the long run's load before the first fault: on this 2-core machine a cluster minutes old still
// compiles its hot paths, and with 30 s (the default until session 12) that, not the faults, decided how much load the
// first scenarios took.
var warmup = TimeSpan.FromSeconds(longRun ? 120 : 0);
var names = new List<string>();
double? rate = null;
var silos = 3;
var outDir = Path.Combine(Processes.RepoRoot, ".fincore", "chaos", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--long":
            break;
        case "--scenario" when i + 1 < args.Length:
            names.Add(args[++i]);
            break;
        case "--rate" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var r) && r > 0:
            rate = r;
            i++;
            break;
        case "--silos" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s) && s is >= 2 and <= 9:
            silos = s;
            i++;
            break;
        case "--warmup" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var w) && w >= 0:
            warmup = TimeSpan.FromSeconds(w);
            i++;
            break;
        case "--out" when i + 1 < args.Length:
            outDir = Path.GetFullPath(args[++i]);
            break;
        default:
            await Console.Error.WriteLineAsync($"ops/chaos: unexpected '{args[i]}'\nusage: ops/chaos [--long] [--scenario {string.Join('|', Scenarios.Names)}]... [--rate CHARGES_PER_SECOND] [--silos N] [--warmup SECONDS] [--out DIR]");
            return 2;
    }
}

if (names.Count == 0 || names.Contains("every"))
{
    names = [.. Scenarios.Names];
}

var unknown = names.Where(n => !Scenarios.Names.Contains(n)).ToList();
if (unknown.Count > 0)
{
    await Console.Error.WriteLineAsync($"ops/chaos: unknown scenario {string.Join(", ", unknown)} (one of: {string.Join(", ", Scenarios.Names)})");
    return 2;
}

var chargesPerSecond = rate ?? (longRun ? 1000 : 300);
void Log(string line) => Console.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {line}");
Log($"ops/chaos: {(longRun ? "long" : "short")} scenarios {string.Join(", ", names)} at {chargesPerSecond:0} charges/s; output in {outDir}");
var results = new List<CheckResult>();
await using (var cluster = await LocalCluster.StartAsync(Path.Combine(outDir, "cluster"), silos, Log))
{
    if (warmup > TimeSpan.Zero)
    {
        await ChaosRunner.WarmUpAsync(cluster, chargesPerSecond, warmup, Path.Combine(outDir, "warm-up"), Log, CancellationToken.None);
    }

    foreach (var name in names)
    {
        results.Add(await ChaosRunner.RunAsync(cluster, Scenarios.Get(name, longRun), chargesPerSecond, Path.Combine(outDir, name), Log, CancellationToken.None));
    }
}

var table = ChaosRunner.Table(results);
await File.WriteAllTextAsync(Path.Combine(outDir, "results.md"), table);
Console.WriteLine();
Console.WriteLine(table);
foreach (var r in results.Where(r => !r.Passed))
{
    Console.WriteLine($"{r.Scenario} FAILED:\n  " + string.Join("\n  ", r.Notes.Take(20)));
}

Console.WriteLine(results.All(r => r.Passed) ? "every invariant held" : "INVARIANTS VIOLATED");
return results.All(r => r.Passed) ? 0 : 1;
