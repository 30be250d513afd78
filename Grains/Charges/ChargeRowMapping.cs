using System.Text.Json;
using FinCore.Grains.Storage;
using FinCore.Persistence;
using Npgsql;

namespace FinCore.Grains.Charges;

/// <summary>A charge grain's state kept in its row of <c>charges</c>, the read model it writes with every change anyway:
/// one statement per change instead of that and a JSON document in <c>fc_grain_state</c>. The row holds the charge; the
/// rest of the state is three columns of its own (the request's fingerprint, the trace, whether the first attempt was
/// scheduled with the charge), and the first response is the charge as it was created. Charges stored in
/// <c>fc_grain_state</c> (created before, or while a silo of an older version was running) keep their state there, with
/// the row written beside it as before.</summary>
public sealed class ChargeRowMapping : RowStateMapping<ChargeState>
{
    /// <summary>The storage provider the charge grain names.</summary>
    public const string Name = "charges";

    public override string ProviderName => Name;

    private static readonly StateColumn[] Key = [new("tenant_id", "text"), new("id", "text")];

    // Everything a charge's creation writes; the first six and the last are what can change afterwards (UpdateColumns).
    private static readonly StateColumn[] Columns =
    [
        new("status", "text"), new("attempts", "integer"), new("psp_reference", "text"), new("failure_code", "text"),
        new("failure_message", "text"), new("updated_at", "timestamptz"),
        new("amount", "bigint"), new("currency", "text"), new("payment_method", "text"), new("description", "text"),
        new("customer", "text"), new("metadata", "json"), new("risk_score", "integer"), new("risk_decision", "text"),
        new("created_at", "timestamptz"), new("fingerprint", "text"), new("trace_parent", "text"), new("attempt_scheduled", "boolean"),
        new("account", "text"), new("amount_refunded", "bigint"),
    ];

    private static readonly StateColumn[] Changing = [.. Columns[..6], Columns[^1]];

    public override string Table => "charges";

    public override IReadOnlyList<StateColumn> KeyColumns => Key;

    public override IReadOnlyList<StateColumn> ReadColumns => Columns;

    public override IReadOnlyList<StateColumn> InsertColumns => Columns;

    public override IReadOnlyList<StateColumn> UpdateColumns => Changing;

    /// <summary>A charge grain's key is <c>tenant/charge id</c> (<see cref="Ids.ChargeKey"/>): the row is found by both,
    /// so another tenant's key never finds it.</summary>
    public override object[] KeyValues(string grainKey)
    {
        var slash = grainKey.IndexOf('/', StringComparison.Ordinal);
        return [grainKey[..slash], grainKey[(slash + 1)..]];
    }

    public override ChargeState Read(NpgsqlDataReader row, int first, string grainKey)
    {
        string? Text(int i) => row.IsDBNull(first + i) ? null : row.GetString(first + i);
        var key = KeyValues(grainKey);
        var status = row.GetString(first);
        if (!ChargeStatusMachine.TryParseApi(status, out var parsed))
        {
            throw new InvalidOperationException($"Charge {grainKey} is stored with an unknown status '{status}'.");
        }

        var charge = new Charge
        {
            Id = (string)key[1],
            Status = status,
            Attempts = row.GetInt32(first + 1),
            PspReference = Text(2),
            FailureCode = Text(3),
            FailureMessage = Text(4),
            UpdatedAt = row.GetDateTime(first + 5),
            Amount = row.GetInt64(first + 6),
            Currency = row.GetString(first + 7),
            PaymentMethod = row.GetString(first + 8),
            Description = Text(9),
            Customer = Text(10),
            Metadata = JsonSerializer.Deserialize<Dictionary<string, string>>(row.GetString(first + 11)) ?? [],
            Risk = new RiskAssessment(row.GetInt32(first + 12), row.GetString(first + 13)),
            CreatedAt = row.GetDateTime(first + 14),
            Account = Text(18),
            AmountRefunded = row.GetInt64(first + 19),
        };
        return new ChargeState
        {
            TenantId = (string)key[0],
            Charge = charge,
            Status = parsed,
            Fingerprint = Text(15),
            // What the create request was answered with: the charge as it was created (ChargeGrain.Create).
            FirstResponse = charge with
            {
                Status = ChargeStatus.Created.ToApi(), Attempts = 0, PspReference = null, FailureCode = null, FailureMessage = null,
                UpdatedAt = charge.CreatedAt,
            },
            TraceParent = Text(16),
            AttemptScheduled = row.GetBoolean(first + 17),
        };
    }

    public override object?[] InsertValues(string grainKey, ChargeState state)
    {
        var c = state.Charge!;
        return
        [
            c.Status, c.Attempts, c.PspReference, c.FailureCode, c.FailureMessage, c.UpdatedAt,
            c.Amount, c.Currency, c.PaymentMethod, c.Description, c.Customer, JsonSerializer.Serialize(c.Metadata),
            c.Risk.Score, c.Risk.Decision, c.CreatedAt, state.Fingerprint, state.TraceParent, state.AttemptScheduled,
            c.Account, c.AmountRefunded,
        ];
    }

    public override object?[] UpdateValues(ChargeState state)
    {
        var c = state.Charge!;
        return [c.Status, c.Attempts, c.PspReference, c.FailureCode, c.FailureMessage, c.UpdatedAt, c.AmountRefunded];
    }

    public override StorageCommand WriteAlongside(string grainKey, ChargeState state, bool first) => first
        ? PaymentsSql.UpsertCharge(state.TenantId!, state.Charge!)
        : PaymentsSql.UpdateCharge(state.TenantId!, state.Charge!);
}
