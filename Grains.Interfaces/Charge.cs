namespace FinCore.Grains;

/// <summary>The risk decision recorded on a charge.</summary>
public sealed record RiskAssessment(int Score, string Decision);

/// <summary>A charge as API.md shows it (the gateway writes it with snake_case names).</summary>
public sealed record Charge
{
    public required string Id { get; init; }
    public string Object => "charge";
    public required long Amount { get; init; }
    public required string Currency { get; init; }
    public required string Status { get; init; }
    public required string PaymentMethod { get; init; }
    public string? Description { get; init; }
    public string? Customer { get; init; }
    public Dictionary<string, string> Metadata { get; init; } = [];
    public int Attempts { get; init; }
    public string? PspReference { get; init; }
    public string? FailureCode { get; init; }
    public string? FailureMessage { get; init; }
    public required RiskAssessment Risk { get; init; }
    public required DateTime CreatedAt { get; init; }
    public required DateTime UpdatedAt { get; init; }
}
