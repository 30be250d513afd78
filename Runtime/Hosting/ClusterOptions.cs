using System.ComponentModel.DataAnnotations;

namespace FinCore.Runtime.Hosting;

/// <summary>What every member of a cluster (silo or gateway) shares. Read from <c>FINCORE_CLUSTER_ID</c>,
/// <c>FINCORE_CLUSTER_SECRET</c> and <c>FINCORE_POSTGRES</c>.</summary>
public sealed class ClusterOptions
{
    /// <summary>Names the cluster; silos of different clusters can share a database. Default "dev".</summary>
    [Required, RegularExpression("^[A-Za-z0-9_.-]{1,64}$", ErrorMessage = "FINCORE_CLUSTER_ID must be 1-64 letters, digits, '_', '.' or '-'.")]
    public string ClusterId { get; set; } = "dev";

    /// <summary>Shared secret every connection between cluster members must prove. At least 16 characters.</summary>
    [Required(ErrorMessage = "FINCORE_CLUSTER_SECRET is not set: every silo and gateway of the cluster needs the same secret (16+ characters).")]
    [MinLength(16, ErrorMessage = "FINCORE_CLUSTER_SECRET must be at least 16 characters.")]
    public string ClusterSecret { get; set; } = "";

    /// <summary>Npgsql connection string of the cluster's database.</summary>
    [Required(ErrorMessage = "FINCORE_POSTGRES is not set: give the PostgreSQL connection string, e.g. Host=127.0.0.1;Port=5432;Username=fincore;Database=fincore.")]
    public string Postgres { get; set; } = "";
}
