namespace FinCore.Deploy;

/// <summary>
/// Everything that differs between production and staging: sizes. The stacks are otherwise built by the same code
/// (tests prove a staging stack with production sizes synthesises to the production template).
/// </summary>
public sealed record StackSizes(
    int NatGateways,
    int GatewayCpu,
    int GatewayMemoryMiB,
    int GatewayMin,
    int GatewayMax,
    int SiloCpu,
    int SiloMemoryMiB,
    int SiloMin,
    int SiloMax,
    string DatabaseInstanceClass,
    string DatabaseInstanceSize,
    int DatabaseStorageGiB,
    int LoadGenCpu,
    int LoadGenMemoryMiB,
    int LoadGenAgents)
{
    public static readonly StackSizes Production = new(
        NatGateways: 2,
        GatewayCpu: 1024, GatewayMemoryMiB: 2048, GatewayMin: 2, GatewayMax: 10,
        SiloCpu: 2048, SiloMemoryMiB: 4096, SiloMin: 3, SiloMax: 12,
        DatabaseInstanceClass: "r6g", DatabaseInstanceSize: "xlarge", DatabaseStorageGiB: 200,
        LoadGenCpu: 4096, LoadGenMemoryMiB: 8192, LoadGenAgents: 0);

    public static readonly StackSizes Staging = new(
        NatGateways: 1,
        GatewayCpu: 512, GatewayMemoryMiB: 1024, GatewayMin: 1, GatewayMax: 3,
        SiloCpu: 1024, SiloMemoryMiB: 2048, SiloMin: 2, SiloMax: 4,
        DatabaseInstanceClass: "t4g", DatabaseInstanceSize: "medium", DatabaseStorageGiB: 50,
        LoadGenCpu: 2048, LoadGenMemoryMiB: 4096, LoadGenAgents: 4);
}
