using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinCore.LoadGen.Agents;

/// <summary>The agent protocol's JSON: snake_case as report.json, enums by name.</summary>
internal static class AgentJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
