using System.ComponentModel.DataAnnotations;

namespace FinCore.Runtime.Hosting;

/// <summary>One silo process.</summary>
public sealed class SiloOptions
{
    /// <summary>The address other members connect to (<c>FINCORE_SILO_ADDRESS</c>). Default 127.0.0.1.</summary>
    [Required]
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>The address the silo port listens on. Default: the advertised address.</summary>
    public string? ListenAddress { get; set; }

    /// <summary>The cluster port (<c>FINCORE_SILO_PORT</c>). Default 11111.</summary>
    [Range(1, 65535, ErrorMessage = "FINCORE_SILO_PORT must be a TCP port (1-65535).")]
    public int Port { get; set; } = 11111;

    /// <summary>The HTTP port for health and metrics (<c>FINCORE_SILO_HTTP_PORT</c>); 0 for none. Default 0.</summary>
    [Range(0, 65535, ErrorMessage = "FINCORE_SILO_HTTP_PORT must be a TCP port (0-65535).")]
    public int HttpPort { get; set; }

    /// <summary>Extra assemblies to scan for grain classes (paths), beside those the host registers.</summary>
    public List<string> GrainAssemblies { get; set; } = [];
}
