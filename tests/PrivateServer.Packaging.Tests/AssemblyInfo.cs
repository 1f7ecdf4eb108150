// The package tests unpack Debian roots and run whole appliances: one at a time on two cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
