using System.ComponentModel.DataAnnotations;

namespace FinCore.Gateway;

/// <summary>The gateway's own settings (the cluster's are <c>ClusterSettings</c>).</summary>
internal sealed class GatewayOptions
{
    /// <summary>Opens /admin routes (<c>FINCORE_ADMIN_TOKEN</c>).</summary>
    [Required(ErrorMessage = "FINCORE_ADMIN_TOKEN is not set: the operator token for /admin routes (16+ characters).")]
    [MinLength(16, ErrorMessage = "FINCORE_ADMIN_TOKEN must be at least 16 characters.")]
    public string AdminToken { get; set; } = "";

    /// <summary>Verifies PSP callbacks (<c>FINCORE_PSP_SECRET</c>); callbacks are refused without it.</summary>
    public string PspSecret { get; set; } = "";

    /// <summary>HTTP port (<c>FINCORE_HTTP_PORT</c>). Default 8080.</summary>
    [Range(1, 65535, ErrorMessage = "FINCORE_HTTP_PORT must be a TCP port.")]
    public int HttpPort { get; set; } = 8080;

    /// <summary>Address to listen on (<c>FINCORE_LISTEN_ADDRESS</c>). Default 127.0.0.1.</summary>
    public string ListenAddress { get; set; } = "127.0.0.1";
}
