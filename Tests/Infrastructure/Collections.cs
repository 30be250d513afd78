namespace FinCore.Tests.Infrastructure;

/// <summary>Tests that run clusters share one PostgreSQL server (each cluster gets its own database).</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "cluster";
}
