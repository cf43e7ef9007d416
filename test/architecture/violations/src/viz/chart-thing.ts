export const chartThing = 1;
