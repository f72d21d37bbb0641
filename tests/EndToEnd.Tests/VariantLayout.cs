namespace Safemount.EndToEnd.Tests;

/// <summary>One on-disk variant of the layout matrix, made by `mkfs.ext4 -d` from the shared tree.</summary>
/// <param name="Name">image label and file name</param>
/// <param name="MkfsArguments">mkfs.ext4 arguments that select the variant</param>
/// <param name="ExpectedFeatures">proof the variant is really there: features dumpe2fs must list ("name") or not ("^name"), and dumpe2fs -h header lines ("Field:value")</param>
/// <param name="After">bash run with the image as $1 after mkfs and before e2fsck -fyD (e.g. tune2fs)</param>
public sealed record VariantLayout(string Name, string[] MkfsArguments, string[] ExpectedFeatures, string After = "")
{
    public override string ToString() => Name;
}
