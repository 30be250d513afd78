using System.Reflection;

namespace FinCore.Runtime.Hosting;

/// <summary>Registers an assembly whose grain classes a silo hosts.</summary>
public sealed record GrainAssembly(Assembly Assembly);
