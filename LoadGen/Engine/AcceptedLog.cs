using System.Threading.Channels;
using FinCore.LoadGen.Workloads;

namespace FinCore.LoadGen.Engine;

/// <summary>"tenant_id,charge_id" per acknowledged charge, written by one background writer (never on a worker's path).</summary>
internal sealed class AcceptedLog : IDisposable
{
    private readonly Channel<AcceptedCharge> queue = Channel.CreateUnbounded<AcceptedCharge>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task writer;

    public AcceptedLog(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var stream = new StreamWriter(path, append: false);
        writer = Task.Run(async () =>
        {
            await using (stream.ConfigureAwait(false))
            {
                await foreach (var a in queue.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    await stream.WriteLineAsync($"{a.Tenant.Id},{a.Id}").ConfigureAwait(false);
                }
            }
        });
    }

    public void Add(AcceptedCharge charge) => queue.Writer.TryWrite(charge);

    public void Dispose()
    {
        queue.Writer.TryComplete();
        writer.GetAwaiter().GetResult();
    }
}
