using BenchmarkDotNet.Running;
using FinCore.Benchmarks;

// dotnet run -c Release --project Benchmarks -- cluster [seconds]   throughput/latency across processes and PostgreSQL
// dotnet run -c Release --project Benchmarks -- orleans [seconds]   Orleans: grain calls (client -> silo, in-silo), state writes
// dotnet run -c Release --project Benchmarks -- micro [BDN args]    BenchmarkDotNet: ring lookup, codec, local call
if (args.Length > 0 && args[0] == "orleans")
{
    await OrleansBenchmarks.RunAsync(TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1]) : 5));
    return;
}

if (args.Length > 0 && args[0] == "cluster")
{
    await ClusterBenchmarks.RunAsync(TimeSpan.FromSeconds(args.Length > 1 ? int.Parse(args[1]) : 5));
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(ClusterBenchmarks).Assembly)
    .Run(args.Length > 0 && args[0] == "micro" ? args[1..] : args);
