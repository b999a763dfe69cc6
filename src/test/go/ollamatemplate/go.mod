module minimind4j/ollamatemplate

go 1.19
