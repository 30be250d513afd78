using Npgsql;

namespace FinCore.Persistence;

// A grain call that fails because the database does fails with Npgsql's exception, which Orleans cannot carry to the
// caller by itself (it has no codec for it, and the caller would get a CodecNotFoundException instead). These carry its
// message and SQL state, so a caller sees the database error it can act on (the gateway answers 503).

[GenerateSerializer, Alias("fincore.npgsql-exception")]
public struct NpgsqlExceptionSurrogate
{
    [Id(0)]
    public string Message;
}

[RegisterConverter]
public sealed class NpgsqlExceptionConverter : IConverter<NpgsqlException, NpgsqlExceptionSurrogate>
{
    public NpgsqlException ConvertFromSurrogate(in NpgsqlExceptionSurrogate surrogate) => new(surrogate.Message);

    public NpgsqlExceptionSurrogate ConvertToSurrogate(in NpgsqlException value) => new() { Message = value.Message };
}

[GenerateSerializer, Alias("fincore.postgres-exception")]
public struct PostgresExceptionSurrogate
{
    [Id(0)]
    public string Message;

    [Id(1)]
    public string Severity;

    [Id(2)]
    public string SqlState;
}

[RegisterConverter]
public sealed class PostgresExceptionConverter : IConverter<PostgresException, PostgresExceptionSurrogate>
{
    public PostgresException ConvertFromSurrogate(in PostgresExceptionSurrogate surrogate) =>
        new(surrogate.Message, surrogate.Severity, surrogate.Severity, surrogate.SqlState);

    public PostgresExceptionSurrogate ConvertToSurrogate(in PostgresException value) =>
        new() { Message = value.MessageText, Severity = value.Severity, SqlState = value.SqlState };
}
