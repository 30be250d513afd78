using Amazon.CDK;
using FinCore.Deploy;

// `dotnet run --project ops/cdk` (or `cdk synth` with cdk.json) writes the CloudFormation templates to cdk.out/.
// Context: -c imageTag=<tag> (images in the stack's ECR repositories), -c pspUrl=<PSP base URL>.
var app = new App(new AppProps { Outdir = System.Environment.GetEnvironmentVariable("CDK_OUTDIR") ?? "cdk.out" });
var env = new Amazon.CDK.Environment
{
    Account = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_ACCOUNT"),
    Region = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_REGION") ?? "us-east-1",
};
_ = new FinCoreStack(app, "fincore-production", StackSizes.Production, new StackProps { Env = env, Description = "FinCore payments (production)" });
_ = new FinCoreStack(app, "fincore-staging", StackSizes.Staging, new StackProps { Env = env, Description = "FinCore payments (staging)" });
app.Synth();
