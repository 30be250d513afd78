using System.Globalization;

namespace FinCore.LoadGen.Workloads;

/// <summary>The operations a run sends.</summary>
public enum Operation
{
    Create,
    Get,
    List,
    Cancel,

    /// <summary>A transfer between two of the tenant's accounts (<c>--accounts</c> payers, one merchant receiving
    /// <c>--hot-share</c> of them), set up and funded before the run.</summary>
    Transfer,

    /// <summary>A partial refund (1–100) of one of the charges that funded the <c>--accounts</c> payers: it debits that
    /// payer's account, and goes through the PSP.</summary>
    Refund,

    /// <summary>A plain GET of <c>--ping-path</c> (no key): the generator's own ceiling against a trivial endpoint.</summary>
    Ping,
}

/// <summary>Weighted choice of operations, from "create=80,get=20" (weights need not add up to 100).</summary>
public sealed class Mix
{
    private readonly Operation[] table;

    private Mix(IReadOnlyDictionary<Operation, int> weights)
    {
        Weights = weights;
        var total = weights.Values.Sum();
        table = new Operation[total];
        var i = 0;
        foreach (var (op, w) in weights)
        {
            for (var k = 0; k < w; k++)
            {
                table[i++] = op;
            }
        }
    }

    public IReadOnlyDictionary<Operation, int> Weights { get; }

    public static Mix Parse(string text)
    {
        var weights = new Dictionary<Operation, int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !Enum.TryParse<Operation>(kv[0], ignoreCase: true, out var op) || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var w) || w > 1000)
            {
                throw new FormatException($"mix '{text}': each part is <create|get|list|cancel|transfer|refund|ping>=<weight 0–1000>, e.g. create=80,get=20");
            }

            if (w > 0)
            {
                weights[op] = weights.GetValueOrDefault(op) + w;
            }
        }

        if (weights.Count == 0)
        {
            throw new FormatException($"mix '{text}' has no operation with a positive weight");
        }

        return new Mix(weights);
    }

    public Operation Next() => table[Random.Shared.Next(table.Length)];

    public override string ToString() => string.Join(",", Weights.Select(kv => $"{kv.Key.ToString().ToLowerInvariant()}={kv.Value}"));
}
