using FinCore.Persistence;
using Npgsql;

namespace FinCore.Tests.Grains;

public sealed class RowProbeState
{
    public int Count { get; set; }
}

/// <summary>Keeps a <see cref="RowProbeState"/> in <c>probe_rows (grain text PRIMARY KEY, count integer, etag bigint,
/// write_id uuid)</c>, which the tests create.</summary>
public sealed class ProbeRowMapping : RowStateMapping<RowProbeState>
{
    public const string Name = "probe-rows";

    private static readonly StateColumn[] Key = [new("grain", "text")];
    private static readonly StateColumn[] Columns = [new("count", "integer")];

    public override string ProviderName => Name;

    public override string Table => "probe_rows";

    public override IReadOnlyList<StateColumn> KeyColumns => Key;

    public override object[] KeyValues(string grainKey) => [grainKey];

    public override IReadOnlyList<StateColumn> ReadColumns => Columns;

    public override IReadOnlyList<StateColumn> InsertColumns => Columns;

    public override IReadOnlyList<StateColumn> UpdateColumns => Columns;

    public override RowProbeState Read(NpgsqlDataReader row, int first, string grainKey) => new() { Count = row.GetInt32(first) };

    public override object?[] InsertValues(string grainKey, RowProbeState state) => [state.Count];

    public override object?[] UpdateValues(RowProbeState state) => [state.Count];

    public override StorageCommand WriteAlongside(string grainKey, RowProbeState state, bool first) =>
        new("UPDATE probe_rows SET count = $2 WHERE grain = $1 AND /*guard*/", grainKey, state.Count);
}

[GrainType(TypeName)]
public sealed class RowProbeGrain([PersistentState("probe", ProbeRowMapping.Name)] IPersistentState<RowProbeState> state) : ProbeGrainBase, IRowProbeGrain
{
    public const string TypeName = "row-probe";

    protected override int Count => state.State.Count;

    protected override async Task SaveAsync(int value)
    {
        var before = state.State.Count;
        state.State.Count = value;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            state.State.Count = before;
            throw;
        }
    }
}
