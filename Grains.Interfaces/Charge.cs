namespace FinCore.Grains;

/// <summary>The risk decision recorded on a charge.</summary>
[GenerateSerializer, Immutable, Alias("fincore.risk")]
public sealed record RiskAssessment(int Score, string Decision);

/// <summary>A charge as API.md shows it (the gateway writes it with snake_case names).</summary>
[GenerateSerializer, Immutable, Alias("fincore.charge")]
public sealed record Charge
{
    [Id(0)]
    public required string Id { get; init; }
    public string Object => "charge";
    [Id(1)]
    public required long Amount { get; init; }
    [Id(2)]
    public required string Currency { get; init; }
    [Id(3)]
    public required string Status { get; init; }
    [Id(4)]
    public required string PaymentMethod { get; init; }
    [Id(5)]
    public string? Description { get; init; }
    [Id(6)]
    public string? Customer { get; init; }
    [Id(7)]
    public Dictionary<string, string> Metadata { get; init; } = [];
    [Id(8)]
    public int Attempts { get; init; }
    [Id(9)]
    public string? PspReference { get; init; }
    [Id(10)]
    public string? FailureCode { get; init; }
    [Id(11)]
    public string? FailureMessage { get; init; }
    [Id(12)]
    public required RiskAssessment Risk { get; init; }
    [Id(13)]
    public required DateTime CreatedAt { get; init; }
    [Id(14)]
    public required DateTime UpdatedAt { get; init; }
    /// <summary>The account a succeeded charge credits (funding), in the same transaction that settles it.</summary>
    [Id(15)]
    public string? Account { get; init; }
    /// <summary>What refunds have taken back or are taking back (pending and succeeded refunds; a failed one gives its
    /// amount back). Never above <see cref="Amount"/>.</summary>
    [Id(16)]
    public long AmountRefunded { get; init; }
}
