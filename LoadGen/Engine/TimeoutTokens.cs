namespace FinCore.LoadGen.Engine;

/// <summary>
/// Request timeouts without a timer per request: requests started in the same 100 ms share one token that is
/// cancelled <c>timeout</c> after that window ends, so a request times out between timeout and timeout + 100 ms.
/// </summary>
internal sealed class TimeoutTokens(TimeSpan timeout, CancellationToken runToken) : IDisposable
{
    private static readonly long BucketTicks = Clock.FromSpan(TimeSpan.FromMilliseconds(100));
    private readonly Queue<(long Expires, CancellationTokenSource Cts)> old = new();
    private readonly Lock gate = new();
    private CancellationTokenSource? current;
    private long currentBucket = -1;

    public CancellationToken Current
    {
        get
        {
            var bucket = Clock.Now / BucketTicks;
            var cts = Volatile.Read(ref current);
            if (bucket == Volatile.Read(ref currentBucket) && cts is not null)
            {
                return cts.Token;
            }

            lock (gate)
            {
                if (bucket != currentBucket || current is null)
                {
                    current = CancellationTokenSource.CreateLinkedTokenSource(runToken);
                    current.CancelAfter(timeout + TimeSpan.FromMilliseconds(100));
                    Volatile.Write(ref currentBucket, bucket);
                    old.Enqueue((Clock.Now + (2 * Clock.FromSpan(timeout)) + Clock.FromSpan(TimeSpan.FromSeconds(1)), current));

                    // Sources whose requests are long finished are released, keeping memory flat on long runs.
                    while (old.TryPeek(out var o) && o.Expires < Clock.Now)
                    {
                        old.Dequeue().Cts.Dispose();
                    }
                }

                return current.Token;
            }
        }
    }

    public void Dispose()
    {
        lock (gate)
        {
            while (old.TryDequeue(out var o))
            {
                o.Cts.Dispose();
            }
        }
    }
}
