namespace FinCore.Grains;

/// <summary>A customer or merchant as API.md shows it.</summary>
[GenerateSerializer, Immutable, Alias("fincore.customer")]
public sealed record Customer
{
    [Id(0)]
    public required string Id { get; init; }
    public string Object => "customer";
    [Id(1)]
    public required string Kind { get; init; }
    [Id(2)]
    public required string Name { get; init; }
    [Id(3)]
    public required string Email { get; init; }
    [Id(4)]
    public required string Document { get; init; }
    [Id(5)]
    public string? Phone { get; init; }
    [Id(6)]
    public Dictionary<string, string> Metadata { get; init; } = [];
    [Id(7)]
    public required string Account { get; init; }
    [Id(8)]
    public required DateTime CreatedAt { get; init; }
    [Id(9)]
    public required DateTime UpdatedAt { get; init; }
}

/// <summary>A validated <c>POST /v1/customers</c>: the ids are chosen by the caller (derived from the Idempotency-Key,
/// or drawn once before the first call), so a repeated call lands on the same customer and account.</summary>
[GenerateSerializer, Immutable, Alias("fincore.create-customer")]
public sealed record CreateCustomerCommand(
    string TenantId,
    string CustomerId,
    string AccountId,
    string Currency,
    string Kind,
    string Name,
    string Email,
    string Document,
    string? Phone,
    Dictionary<string, string> Metadata,
    string Fingerprint);

/// <summary>A validated <c>PATCH /v1/customers/{id}</c>: null leaves a field as it is.</summary>
[GenerateSerializer, Immutable, Alias("fincore.update-customer")]
public sealed record UpdateCustomerCommand(string? Name, string? Email, string? Phone, Dictionary<string, string>? Metadata);

[GenerateSerializer, Immutable, Alias("fincore.create-customer-result")]
public sealed record CreateCustomerResult(Customer Customer, bool Replayed);

/// <summary>What an account is: whose, in which currency. Its balance lives in PostgreSQL (<c>accounts</c>), changed
/// only by ledger transactions.</summary>
[GenerateSerializer, Immutable, Alias("fincore.account-info")]
public sealed record AccountInfo(string Id, string Customer, string Currency, DateTime CreatedAt);

/// <summary>A transfer as API.md shows it.</summary>
[GenerateSerializer, Immutable, Alias("fincore.transfer")]
public sealed record Transfer
{
    [Id(0)]
    public required string Id { get; init; }
    public string Object => "transfer";
    [Id(1)]
    public required string From { get; init; }
    [Id(2)]
    public required string To { get; init; }
    [Id(3)]
    public required long Amount { get; init; }
    [Id(4)]
    public required string Currency { get; init; }
    [Id(5)]
    public required string Status { get; init; }
    [Id(6)]
    public string? Description { get; init; }
    [Id(7)]
    public string? FailureCode { get; init; }
    [Id(8)]
    public required DateTime CreatedAt { get; init; }
}

/// <summary>A validated <c>POST /v1/transfers</c>, sent to the paying account's grain.</summary>
[GenerateSerializer, Immutable, Alias("fincore.transfer-command")]
public sealed record TransferCommand(string TenantId, string TransferId, string From, string To, long Amount, string Currency, string? Description, string Fingerprint);

/// <summary>How a transfer ended: <c>succeeded</c> (both entries written), or <c>failed</c> with
/// <c>insufficient_funds</c> (nothing moved); and whether this answer is a replay of the first.</summary>
[GenerateSerializer, Immutable, Alias("fincore.transfer-result")]
public sealed record TransferResult(Transfer Transfer, bool Replayed);

/// <summary>One account's balance, serialised: every change to it is a ledger transaction written by this grain
/// (keyed <c>{tenant}/{acct}</c>, so no tenant reaches another's account). A transfer is two ledger transactions, each
/// balanced: the payer's account moves the amount to the tenant's transit account (debit), then the payee's takes it
/// from there (credit); a transfer whose credit is not written yet is <c>pending</c>, and is always finished (by its
/// caller's retry, or by the charge sweeper's pass over pending transfers). Many operations arriving together on one account are written in one
/// PostgreSQL transaction, so an account paid by thousands is not a queue of single commits.</summary>
[Alias("fincore.account-grain")]
public interface IAccountGrain : IGrainWithStringKey
{
    /// <summary>The account, or null when the tenant has no such account.</summary>
    [Alias("info")]
    Task<AccountInfo?> Info();

    /// <summary>Moves money from this account to <see cref="TransferCommand.To"/>; idempotent by transfer id (the same
    /// request answers the same, another body under the same id is <see cref="IdempotencyKeyMismatchException"/>).
    /// <see cref="AccountNotFoundException"/> when either account does not exist in the tenant,
    /// <see cref="InvalidTransferException"/> when the payee's currency differs.</summary>
    [Alias("transfer")]
    Task<TransferResult> Transfer(TransferCommand command);

    /// <summary>The second half of a transfer whose debit is written (it is <c>pending</c>, to this account): credits this
    /// account from transit and marks the transfer <c>succeeded</c>, once, however often it is called.</summary>
    [Alias("credit")]
    Task Credit(Transfer transfer);
}

/// <summary>A customer or merchant profile, keyed <c>{tenant}/{cus}</c>; its account is opened in the same
/// transaction as it.</summary>
[Alias("fincore.customer-grain")]
public interface ICustomerGrain : IGrainWithStringKey
{
    [Alias("create")]
    Task<CreateCustomerResult> Create(CreateCustomerCommand command);

    /// <summary>The customer; <see cref="CustomerNotFoundException"/> when it does not exist.</summary>
    [Alias("get")]
    Task<Customer> Get();

    [Alias("update")]
    Task<Customer> Update(UpdateCustomerCommand command);

    /// <summary>The channels the customer is notified on.</summary>
    [Alias("preferences")]
    Task<NotificationPreferences> Preferences();

    /// <summary>Sets the channels the customer is notified on (null leaves one as it is); answers them.</summary>
    [Alias("set-preferences")]
    Task<NotificationPreferences> SetPreferences(bool? email, bool? push);

    /// <summary>Encrypts the personal data again under the tenant's current data key, if it is under an older one (or
    /// stored from before encryption); true when it wrote.</summary>
    [Alias("reseal")]
    Task<bool> Reseal();

    /// <summary>Erases the customer's personal data (LGPD): what stays is pseudonymous (its id, kind, account and
    /// times), its sessions are revoked and nothing is sent to it any more. Only with a zero balance
    /// (<see cref="CustomerStateException"/> otherwise); erasing an erased customer again changes nothing.</summary>
    [Alias("erase")]
    Task Erase();
}
