namespace FinCore.Grains;

// Each has a (string) constructor: the runtime recreates it in the calling process by type name.

public sealed class ChargeNotFoundException(string message) : Exception(message);

public sealed class InvalidChargeStateException(string message) : Exception(message);

public sealed class IdempotencyKeyMismatchException(string message) : Exception(message);

public sealed class TenantNotFoundException(string message) : Exception(message);

public sealed class ApiKeyNotFoundException(string message) : Exception(message);
