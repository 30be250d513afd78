using System.Collections.Concurrent;
using System.Globalization;

namespace FinCore.LoadGen.Metrics;

/// <summary>Responses by status: HTTP codes in a fixed array (one interlocked add), transport failures by name.</summary>
internal sealed class StatusCounter
{
    private readonly long[] codes = new long[600];
    private readonly ConcurrentDictionary<string, long> others = new(StringComparer.Ordinal);

    /// <summary>Counts an HTTP <paramref name="code"/> (100–599), or else the failure <paramref name="name"/>.</summary>
    public void Add(int code, string name)
    {
        if (code is >= 100 and < 600)
        {
            Interlocked.Increment(ref codes[code]);
        }
        else
        {
            others.AddOrUpdate(name, 1, static (_, c) => c + 1);
        }
    }

    /// <summary>Adds <paramref name="count"/> under a key as <see cref="Snapshot"/> writes it ("200", "timeout").</summary>
    public void Add(string key, long count)
    {
        if (int.TryParse(key, System.Globalization.NumberStyles.None, CultureInfo.InvariantCulture, out var code) && code is >= 100 and < 600)
        {
            Interlocked.Add(ref codes[code], count);
        }
        else
        {
            others.AddOrUpdate(key, count, (_, c) => c + count);
        }
    }

    public void Clear()
    {
        Array.Clear(codes);
        others.Clear();
    }

    public SortedDictionary<string, long> Snapshot()
    {
        var result = new SortedDictionary<string, long>(StringComparer.Ordinal);
        for (var i = 0; i < codes.Length; i++)
        {
            var c = Volatile.Read(ref codes[i]);
            if (c != 0)
            {
                result[i.ToString(CultureInfo.InvariantCulture)] = c;
            }
        }

        foreach (var (k, v) in others)
        {
            result[k] = v;
        }

        return result;
    }
}
