namespace FinCore.Grains;

// Thrown by grains and caught by callers in other processes: Orleans carries them by their alias.

[GenerateSerializer, Alias("fincore.charge-not-found")]
public sealed class ChargeNotFoundException(string message) : Exception(message);

[GenerateSerializer, Alias("fincore.invalid-charge-state")]
public sealed class InvalidChargeStateException(string message) : Exception(message);

[GenerateSerializer, Alias("fincore.idempotency-key-mismatch")]
public sealed class IdempotencyKeyMismatchException(string message) : Exception(message);

[GenerateSerializer, Alias("fincore.tenant-not-found")]
public sealed class TenantNotFoundException(string message) : Exception(message);

[GenerateSerializer, Alias("fincore.api-key-not-found")]
public sealed class ApiKeyNotFoundException(string message) : Exception(message);

[GenerateSerializer, Alias("fincore.customer-not-found")]
public sealed class CustomerNotFoundException(string message) : Exception(message);

[GenerateSerializer, Alias("fincore.account-not-found")]
public sealed class AccountNotFoundException(string message) : Exception(message);

[GenerateSerializer, Alias("fincore.invalid-transfer")]
public sealed class InvalidTransferException(string message) : Exception(message);

/// <summary>A refund above what is left of its charge.</summary>
[GenerateSerializer, Alias("fincore.amount-too-large")]
public sealed class AmountTooLargeException(string message) : Exception(message);

/// <summary>An account cannot cover a debit (nothing was moved).</summary>
[GenerateSerializer, Alias("fincore.insufficient-funds")]
public sealed class InsufficientFundsException(string message) : Exception(message);

/// <summary>The customer cannot do this in its state (erasure with money in its account, or a create replayed after
/// erasure): <c>409 invalid_state</c>.</summary>
[GenerateSerializer, Alias("fincore.customer-state-exception")]
public sealed class CustomerStateException(string message) : Exception(message);
