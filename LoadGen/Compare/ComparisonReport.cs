namespace FinCore.LoadGen.Compare;

/// <summary>What <c>compare</c> found, as written to compare.json (snake_case).</summary>
public sealed record ComparisonReport(string Base, string New, string? MaxRegression, IReadOnlyList<FigureDelta> Figures, IReadOnlyList<string> Regressed, bool Passed);

/// <summary>
/// One figure in both runs. <see cref="Delta"/> is new − base in the figure's unit; <see cref="DeltaPct"/> relative to
/// base (null when base is 0); <see cref="Worse"/> how much worse in the unit the limit is in (percent, or points for
/// rates; negative: better); <see cref="Limit"/> the allowed worsening, null when not judged.
/// </summary>
public sealed record FigureDelta(string Figure, string Label, string Unit, double? Base, double? New, double? Delta, double? DeltaPct, double? Worse, string? Limit, bool Regressed);
