namespace FinCore.LoadGen.Workloads;

/// <summary>The last charge ids a tenant created, for get and cancel; a fixed ring, written and read lock-free.</summary>
internal sealed class RecentIds
{
    private const int Size = 4096;
    private readonly string?[] items = new string?[Size];
    private long written;

    public void Add(string id) => Volatile.Write(ref items[(Interlocked.Increment(ref written) - 1) & (Size - 1)], id);

    public string? Pick()
    {
        var n = Math.Min(Volatile.Read(ref written), Size);
        return n == 0 ? null : Volatile.Read(ref items[Random.Shared.Next((int)n)]);
    }
}
