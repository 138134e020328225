package nodetest

import "flag"

func flagSet() *flag.FlagSet { return flag.NewFlagSet("nodetest", flag.ContinueOnError) }
